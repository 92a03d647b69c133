"""The audit trail (who, when, what, on which object), its admin page and retention — and logs
that carry no personal data through a whole day's work."""

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from dossiers import tasks
from dossiers.models import AuditEntry, OutgoingEvent
from dossiers.operations import schedules
from dossiers.records import audit
from hubee_portal.sandbox import services as sandbox
from tests.conftest import log_in
from tests.factories import AdminFactory, DossierFactory, UserFactory, agent_for
from tests.views.conftest import pdf_bytes, received_dossier

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

FIRST, LAST, EMAIL = "Zéphyrine", "Quasimodo", "zephyrine.quasimodo@exemple.test"
FILES = ["acte-zephyrine-quasimodo.pdf", "demande-quasimodo.xml", "attestation-quasimodo.pdf"]
RULES = {"allows_messages": True, "allows_add_awaiting": True, "allows_document_return": True}


def test_a_whole_day_of_work_is_audited_and_logs_no_personal_data(portal, client, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("django_q", "django.request", "django.db.backends", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    demarche = portal.demarche("EtatCivil", rules=RULES, automatic_status="SI_RECEIVED", **RULES)
    agent_for(demarche, username="agent.mairie")
    case, dossier = received_dossier(
        portal,
        demarche,
        applicant={"firstName": FIRST, "lastName": LAST, "email": EMAIL},
        files=[
            (FILES[0], "PDF", "application/pdf", pdf_bytes("acte")),
            (FILES[1], "XML", "application/xml", f"<D><Nom>{LAST}</Nom></D>".encode()),
        ],
    )
    # Log in through the form (axes sees it), then work.
    client.post(reverse("login"), {"username": "agent.mairie", "password": "faux"})
    client.post(reverse("login"), {"username": "agent.mairie", "password": "mot-de-passe-de-test"})
    pieces = {p.file_name: p for p in dossier.pieces_jointes.all()}
    detail = reverse("dossiers:detail", args=[dossier.pk])
    assert client.get(reverse("dossiers:list"), {"q": LAST}).status_code == 200
    assert client.get(reverse("dossiers:list"), {"q": EMAIL, "page": "x"}).status_code == 200
    assert client.get(detail).status_code == 200
    assert (
        client.get(reverse("dossiers:download", args=[dossier.pk, pieces[FILES[0]].pk])).status_code
        == 200
    )
    b"".join(client.get(reverse("dossiers:download-all", args=[dossier.pk])).streaming_content)
    assert (
        client.get(
            reverse("dossiers:piece-fields", args=[dossier.pk, pieces[FILES[1]].pk])
        ).status_code
        == 200
    )
    action = lambda slug: reverse("dossiers:action", args=[dossier.pk, slug])  # noqa: E731
    client.post(action("prendre-en-charge"), {"confirm": "on"})
    client.post(action("message"), {"message": f"Bonjour {FIRST} {LAST}", "confirm": "on"})
    client.post(action("refuser"), {"message": "", "confirm": "on"})  # 400: message missing
    client.post(
        action("renvoyer-documents"),
        {
            "files": [SimpleUploadedFile(FILES[2], b"%PDF attestation", "application/pdf")],
            "confirm": "on",
        },
    )
    sandbox.osl_message(case, f"Réponse de {FIRST} {LAST} ({EMAIL})")
    portal.sync(demarche)
    client.post(action("traiter"), {"message": f"Dossier de {LAST} traité.", "confirm": "on"})
    assert client.get(detail).status_code == 200
    client.post(reverse("sync-now"))
    client.post(reverse("preferences"), {"alert_mode": "immediate"})
    failed = OutgoingEvent.objects.create(
        dossier=dossier,
        action_type="SENDING_MESSAGE",
        message=f"À {LAST}",
        author="a",
        state="failed",
    )
    client.post(reverse("dossiers:retry", args=[dossier.pk, failed.pk]))
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "IN_PROGRESS", "DONE"]

    # Everything was audited, by whom, on what.
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert actions == {
        "list",
        "view",
        "download",
        "download_all",
        "view_xml",
        "status",
        "message",
        "return_documents",
        "sync",
        "preferences",
        "retry",
    }
    assert set(AuditEntry.objects.values_list("username", flat=True)) == {"agent.mairie"}
    assert AuditEntry.objects.filter(dossier=dossier, action="status").count() == 2

    # Neither the audit trail nor the logs hold the applicant's identity or file names.
    entries = " ".join(
        " ".join(row)
        for row in AuditEntry.objects.values_list("dossier_ref", "object_ref", "detail")
    )
    logs = caplog.text
    assert "HubEE" in logs or "AXES" in logs  # the logs were captured
    for secret in (FIRST, LAST, LAST.lower(), EMAIL, "zephyrine", *FILES):
        assert secret not in logs, secret
        assert secret not in entries, secret


def test_the_admin_sees_the_audit_trail_read_only(client):
    dossier = DossierFactory()
    agent = agent_for(dossier.demarche, username="agent.lecture")
    audit.record(agent, "view", dossier=dossier)
    log_in(client, AdminFactory())
    changelist = client.get(reverse("admin:dossiers_auditentry_changelist"))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "agent.lecture" in page and dossier.external_id in page
    entry = AuditEntry.objects.get()
    assert client.get(reverse("admin:dossiers_auditentry_add")).status_code == 403
    change = client.post(
        reverse("admin:dossiers_auditentry_change", args=[entry.pk]), {"username": "autre"}
    )
    assert change.status_code == 403
    assert (
        client.post(reverse("admin:dossiers_auditentry_delete", args=[entry.pk])).status_code == 403
    )
    assert AuditEntry.objects.get().username == "agent.lecture"


def test_agents_cannot_read_the_audit_trail(client):
    log_in(client, UserFactory())
    response = client.get(reverse("admin:dossiers_auditentry_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_entries_are_kept_36_months_then_purged(settings):
    now = timezone.now()
    user = UserFactory()
    old = audit.record(user, "view")
    recent = audit.record(user, "view")
    AuditEntry.objects.filter(pk=old.pk).update(at=now - timedelta(days=37 * 31))
    AuditEntry.objects.filter(pk=recent.pk).update(at=now - timedelta(days=35 * 31))
    assert settings.AUDIT_RETENTION_MONTHS == 36
    assert tasks.purge_audit() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    assert audit.retention_limit(now) < now - timedelta(days=365 * 3 - 1)


def test_connection_logs_are_erased_after_their_retention_by_the_nightly_purge(settings):
    from axes.models import AccessFailureLog, AccessLog

    now = timezone.now()
    settings.LOGIN_LOG_RETENTION_MONTHS = 6
    for model in (AccessLog, AccessFailureLog):
        for age in (200, 170):  # days: past 6 months, and within
            row = model.objects.create(username="agent", ip_address="192.0.2.1", user_agent="x")
            model.objects.filter(pk=row.pk).update(attempt_time=now - timedelta(days=age))
    tasks.purge_audit()
    for model in (AccessLog, AccessFailureLog):
        [kept] = model.objects.all()
        assert now - kept.attempt_time < timedelta(days=171)


def test_the_purge_is_scheduled_daily():
    schedule = Schedule.objects.get(name=schedules.AUDIT_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("dossiers.tasks.purge_audit", "D")


def test_a_retention_below_36_months_is_refused():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "AUDIT_RETENTION_MONTHS": "12",
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import hubee_portal.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "AUDIT_RETENTION_MONTHS doit valoir au moins 36" in result.stderr
