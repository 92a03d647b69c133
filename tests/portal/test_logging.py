"""Expected refusals are logged on one line, once; a crash keeps its traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from tests.factories import DemarcheFactory, DossierFactory, UserFactory, agent_for

ROOT = Path(__file__).resolve().parents[2]


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_second_click_on_an_action_is_one_line_without_traceback(client, caplog):
    demarche = DemarcheFactory()
    dossier = DossierFactory(demarche=demarche, status="DONE")  # « Traiter » already clicked
    client.force_login(agent_for(demarche))
    caplog.set_level(logging.INFO, logger="django.request")

    url = reverse("dossiers:action", args=[dossier.pk, "traiter"])
    response = client.post(url, {"confirm": "on"})

    assert response.status_code == 403
    (record,) = request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage().startswith(f"Forbidden (Permission denied): {url} (")
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_non_staff_user_on_a_sandbox_page_is_one_line_without_traceback(client, caplog):
    client.force_login(UserFactory())
    caplog.set_level(logging.INFO, logger="django.request")

    response = client.get(reverse("sandbox:osl-home"))

    assert response.status_code == 403
    (record,) = request_records(caplog)
    assert record.exc_info is None
    assert "réservé aux comptes du personnel" in record.getMessage()
    assert "Traceback" not in caplog.text


# Django's own exception handling, as a request through the middleware would meet it.
REFUSAL_THEN_CRASH = """
import django
django.setup()
from django.core.management import call_command
# As on a production install (the error pages link the collected style sheet).
call_command("collectstatic", interactive=False, verbosity=0)
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory

for exc in (PermissionDenied("Action déjà faite."), RuntimeError("panne")):
    request = RequestFactory().post("/dossiers/1/action/traiter/")
    try:
        raise exc
    except Exception as caught:
        print(response_for_exception(request, caught).status_code)
"""


@pytest.mark.parametrize("debug", ["true", "false"])
def test_refusal_prints_one_line_and_a_crash_one_traceback(tmp_path, debug):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "ENCRYPTION_KEY", "LOG_LEVEL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hubee_portal.settings",
            "DEBUG": debug,
            "DATA_DIR": str(tmp_path / "data"),
            "ENV_FILE": str(tmp_path / "absent.env"),
            # Production needs its keys; any valid ones will do here.
            "SECRET_KEY": "x" * 20 + "-production-secret-key-0123456789-abcdefghij",
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "testserver",
            "ANTIVIRUS": "off",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", REFUSAL_THEN_CRASH],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["403", "500"]
    forbidden = [line for line in result.stderr.splitlines() if "Forbidden" in line]
    assert forbidden == [
        forbidden[0].split(" WARNING ")[0]
        + " WARNING django.request Forbidden (Permission denied): "
        "/dossiers/1/action/traiter/ (Action déjà faite.)"
    ]
    assert "PermissionDenied" not in result.stderr
    assert result.stderr.count("Traceback") == 1
    assert result.stderr.count("RuntimeError: panne") == 1
