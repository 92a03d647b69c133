"""Settings as a fresh install and a production install see them, in real processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SAVE_SECRET = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from demarches.models import Demarche
from tests.factories import DemarcheFactory
DemarcheFactory(client_id="persist", client_secret="secret-d-hier")
"""

READ_SECRET = """
import django
django.setup()
from demarches.models import Demarche
print(Demarche.objects.get(client_id="persist").client_secret)
"""


def run(code_or_args, env_overrides, *, script=True):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "SECRET_KEY",
            "ENCRYPTION_KEY",
            "DEBUG",
            "DATA_DIR",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "ANTIVIRUS",
            "CLAMD_SOCKET",
        }
    }
    env.update({"DJANGO_SETTINGS_MODULE": "hubee_portal.settings", **env_overrides})
    args = [sys.executable, "-c", code_or_args] if script else [sys.executable, *code_or_args]
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_development_needs_no_env_file_and_secrets_survive_a_restart(tmp_path):
    env = {
        "DEBUG": "true",
        "DATA_DIR": str(tmp_path / "data"),
        "ENV_FILE": str(tmp_path / "absent.env"),
    }
    first = run(SAVE_SECRET, env)
    assert first.returncode == 0, first.stderr
    # Keys and the SQLite database were generated in the data folder.
    assert (tmp_path / "data" / "secret_key").is_file()
    assert (tmp_path / "data" / "encryption.key").is_file()
    assert (tmp_path / "data" / "hubee_portal.sqlite3").is_file()

    second = run(READ_SECRET, env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "secret-d-hier"


def test_sqlite_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA synchronous'); print(c.fetchone()[0])\n"
    )
    env = {"DEBUG": "true", "DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "none")}
    result = run(code, env)
    assert result.returncode == 0, result.stderr
    # synchronous=FULL (2): a commit is on disk before HubEE's notification is deleted.
    assert result.stdout.split() == ["wal", "20000", "2"]

    result = run(code, {**env, "SQLITE_SYNCHRONOUS": "normal"})
    assert result.stdout.split()[-1] == "1"
    result = run(code, {**env, "SQLITE_SYNCHRONOUS": "OFF"})
    assert result.returncode != 0
    assert "SQLITE_SYNCHRONOUS vaut FULL (par défaut), EXTRA ou NORMAL, pas 'OFF'" in result.stderr


def test_missing_secret_key_without_debug_is_a_clear_startup_error(tmp_path):
    result = run(
        ["manage.py", "check"],
        {"DEBUG": "false", "DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "none")},
        script=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire quand DEBUG est désactivé" in result.stderr
    # Nothing was generated behind the administrator's back.
    assert not (tmp_path / "secret_key").exists()


def production_env(tmp_path, **extra):
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-0123456789-abcdefghij",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "hubee.mairie-exemple.fr",
        "ANTIVIRUS": "clamd",
        "DATA_DIR": str(tmp_path),
        "ENV_FILE": str(tmp_path / "none"),
        **extra,
    }


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = run(["manage.py", "check", "--deploy"], production_env(tmp_path), script=False)
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize("value", [None, ""])
def test_production_without_antivirus_set_is_a_clear_startup_error(tmp_path, value):
    """The administrator decides: clamd, or off knowingly; never a silent default."""
    env = production_env(tmp_path)
    if value is None:
        del env["ANTIVIRUS"]
    else:
        env["ANTIVIRUS"] = value  # a blank line of .env counts as unset
    result = run(["manage.py", "check"], env, script=False)
    assert result.returncode != 0
    assert "ANTIVIRUS est obligatoire quand DEBUG est désactivé" in result.stderr
    assert "mettez ANTIVIRUS=clamd" in result.stderr


def test_check_deploy_reports_debug_in_production(tmp_path):
    # The check is real: the same command complains when a production value is wrong.
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false")
    result = run(["manage.py", "check", "--deploy"], env, script=False)
    assert "security.W008" in result.stdout + result.stderr


def test_env_file_is_read(tmp_path):
    env_file = tmp_path / "prod.env"
    values = production_env(tmp_path)
    env_file.write_text(
        "\n".join(f"{k}={v}" for k, v in values.items() if k not in {"ENV_FILE"}) + "\n"
    )
    code = "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    result = run(code, {"ENV_FILE": str(env_file)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['hubee.mairie-exemple.fr']"


@pytest.mark.parametrize(
    ("redis_url", "expected"), [("", "orm"), ("redis://127.0.0.1:6379/0", "redis")]
)
def test_django_q_broker_follows_redis_url(tmp_path, redis_url, expected):
    code = (
        "from django.conf import settings; "
        "print('redis' if 'redis' in settings.Q_CLUSTER else 'orm', "
        "settings.Q_CLUSTER['retry'] > settings.Q_CLUSTER['timeout'])"
    )
    env = {"DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "x"), "REDIS_URL": redis_url}
    result = run(code, {**env, "DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected, "True"]


# -- production is the default --------------------------------------------------------------------

UNKNOWN_PAGES = """
import json
import django
django.setup()
from django.core.management import call_command
# As on a production install (the error pages link the collected style sheet).
call_command("collectstatic", interactive=False, verbosity=0)
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
pages = {}
for path in ("/pas-de-page-ici/", "/sandbox/"):
    response = client.get(path, secure=True)
    pages[path] = [response.status_code, response.content.decode()]
print(json.dumps({"debug": settings.DEBUG, "sandbox": settings.HUBEE_SANDBOX, "pages": pages}))
"""


READ_SETTINGS = "from django.conf import settings; settings.SECRET_KEY"


def env_without_debug(tmp_path):
    """A production install that never set DEBUG (as before the default changed)."""
    env = production_env(tmp_path)
    del env["DEBUG"]
    return env


def test_without_debug_set_the_portal_runs_in_production_mode(tmp_path):
    result = run(UNKNOWN_PAGES, env_without_debug(tmp_path))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # A visitor gets the plain page: no traceback page listing every route of the portal.
    status, page = seen["pages"]["/pas-de-page-ici/"]
    assert "URLconf" not in page
    assert "admin/" not in page
    assert status == 404
    assert "Page introuvable" in page
    # The fake HubEE (which hands out tokens to anyone) is not served.
    status, page = seen["pages"]["/sandbox/"]
    assert status == 404
    assert "URLconf" not in page
    assert (seen["debug"], seen["sandbox"]) == (False, False)


def test_without_debug_set_missing_keys_stop_the_start(tmp_path):
    result = run(
        ["manage.py", "check"],
        {"DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "none")},
        script=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire quand DEBUG est désactivé" in result.stderr
    # No key generated behind the administrator's back.
    assert list(tmp_path.iterdir()) == []


def test_an_install_upgraded_without_debug_is_told_where_its_keys_are(tmp_path):
    """Keys generated while DEBUG was on by default: the start says where they are."""
    env = {"DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "none")}
    assert run(READ_SETTINGS, {**env, "DEBUG": "true"}).returncode == 0
    secret_key = (tmp_path / "secret_key").read_text().strip()

    result = run(["manage.py", "check"], env, script=False)
    assert result.returncode != 0
    assert f"Une clé a déjà été générée dans {tmp_path / 'secret_key'}" in result.stderr
    assert "recopiez-la dans SECRET_KEY" in result.stderr
    assert secret_key not in result.stderr


def test_check_deploy_is_clean_without_debug_set(tmp_path):
    env = env_without_debug(tmp_path)
    result = run(["manage.py", "check", "--deploy"], env, script=False)
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout


BAD_KEY = "notakey"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param(BAD_KEY, "ENCRYPTION_KEY n'est pas une clé Fernet valide", id="bad"),
        pytest.param(
            "{good}," + BAD_KEY, "La 2e clé de ENCRYPTION_KEY n'est pas une clé Fernet", id="2nd"
        ),
        pytest.param(
            BAD_KEY + ",{good}", "La 1re clé de ENCRYPTION_KEY n'est pas une clé Fernet", id="1st"
        ),
        pytest.param(",", "ENCRYPTION_KEY ne contient aucune clé", id="empty-list"),
    ],
)
def test_a_bad_encryption_key_stops_the_start(tmp_path, keys, expected):
    from cryptography.fernet import Fernet

    env = production_env(tmp_path, ENCRYPTION_KEY=keys.format(good=Fernet.generate_key().decode()))
    result = run(["manage.py", "check", "--deploy"], env, script=False)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Fernet.generate_key()" in result.stderr  # how to make a good one
    assert BAD_KEY not in result.stdout + result.stderr


def test_check_deploy_fails_on_the_sandbox_in_production(tmp_path):
    env = production_env(tmp_path, HUBEE_SANDBOX="true")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "ERROR"], env, script=False)
    assert result.returncode != 0
    assert "hubee_portal.E001" in result.stderr
    assert "HUBEE_SANDBOX" in result.stderr
