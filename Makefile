# Deux commandes suffisent : `make run` (le portail) et `make test` (la suite complète).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Sans DEBUG, le portail démarre en production (clés obligatoires, bac à sable éteint) : les
# commandes de développement demandent le mode développement, chacune explicitement.
DEV := DEBUG=true

.PHONY: run test install lint format chromium clamav clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $(STAMP)

# La démonstration : portail web + worker django-q2 + bac à sable HubEE intégré, sur SQLite
# embarqué (data/). Démarches de démonstration reliées au bac à sable, compte agent et
# télédossiers déposés : ils arrivent dans le portail en moins d'une minute.
# Le worker joint le bac à sable à l'adresse du portail (127.0.0.1 quand HOST écoute partout).
DEMO_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
run: $(STAMP)
	@$(DEV) $(PY) manage.py migrate --noinput --verbosity 0
	@SUMMARY=$$(mktemp) && \
	$(DEV) $(PY) manage.py hubee_bootstrap --summary-file $$SUMMARY >/dev/null && \
	$(DEV) $(PY) manage.py hubee_demo --base-url http://$(DEMO_HOST):$(PORT) --summary-file $$SUMMARY >/dev/null && \
	$(PY) tools/run_summary.py $$SUMMARY http://$(DEMO_HOST):$(PORT)
	$(DEV) PORTAL_BASE_URL=http://$(DEMO_HOST):$(PORT) $(PY) manage.py qcluster & QPID=$$!; trap 'kill $$QPID 2>/dev/null; wait $$QPID' EXIT INT TERM; \
	$(DEV) PORTAL_BASE_URL=http://$(DEMO_HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

# Chromium de Debian pour les tests navigateur (aucun téléchargement de navigateur ici).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Chromium manque pour les tests navigateur : installez-le (sudo apt-get install chromium) puis relancez make test." >&2; exit 1; \
	  fi; \
	  echo "Installation de chromium (apt-get)…"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# clamd de Debian pour les tests de l'antivirus (tests/antivirus : un clamd lancé par les tests,
# avec une seule signature de test ; aucune base de signatures téléchargée).
clamav:
	@{ command -v clamd || test -x /usr/sbin/clamd; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "clamd manque pour les tests de l'antivirus : installez-le (sudo apt-get install clamav-daemon) puis relancez make test." >&2; exit 1; \
	  fi; \
	  echo "Installation de clamav-daemon (apt-get)…"; \
	  apt-get update -qq && apt-get install -y -qq clamav-daemon >/dev/null; }

# La suite se lance en mode développement : tests/settings.py met DEBUG=true.
test: $(STAMP) chromium clamav
	$(PY) -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV) HUBEE_SANDBOX=true $(PY) manage.py makemigrations --check --dry-run
	$(PY) tools/module_size.py
	$(VENV)/bin/lint-imports --no-cache
	$(DEV) DATA_DIR=$$(mktemp -d) $(VENV)/bin/mypy -p hubee_portal.hubee -p dossiers.exchange

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV)
