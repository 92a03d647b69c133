"""Files from the sandbox scanned by a real clamd: what an agent and the staff would notice
(the EICAR case end to end, over HTTP: test_antivirus_live)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers import tasks
from dossiers.enums import AuditAction, RunStatus, ScanState
from dossiers.models import AuditEntry, Dossier, Heartbeat, Incident
from dossiers.operations import incidents
from dossiers.records import antivirus as scanning
from hubee_portal.sandbox import services as sandbox
from tests.antivirus.conftest import FILE_MAX, STREAM_MAX
from tests.dossiers.conftest import pdf_bytes
from tests.factories import AdminFactory, agent_for, staff_with

pytestmark = pytest.mark.django_db


def deposit_and_sync(hubee, demarche, files):
    case = hubee.deposit(demarche, files=files)
    outcome = hubee.sync(demarche)
    return case, outcome, Dossier.objects.get(hubee_case_id=case.id)


@pytest.mark.parametrize(
    ("size", "limit"),
    [
        (FILE_MAX + 100_000, "Heuristics.Limits.Exceeded.MaxFileSize"),  # AlertExceedsMax
        (STREAM_MAX, "StreamMaxLength"),  # clamd cuts the stream
    ],
)
def test_a_file_over_the_limits_is_unscannable_and_closed(hubee, antivirus, client, size, limit):
    demarche = hubee.demarche()
    files = [("gros.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("x", size))]
    _, outcome, dossier = deposit_and_sync(hubee, demarche, files)

    assert outcome.run.status == RunStatus.OK
    piece = dossier.pieces_jointes.get()
    assert (piece.scan, piece.scan_signature) == (ScanState.UNSCANNABLE, limit)
    assert piece.absolute_path.is_file()  # not infected: stays where it is, closed
    client.force_login(agent_for(demarche))
    assert client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk])).status_code == 404
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Non analysable : ce fichier dépasse les limites de l&#x27;antivirus" in page


def test_clamd_down_files_wait_an_incident_opens_and_scanning_resumes(hubee, antivirus, client):
    demarche = hubee.demarche()
    antivirus.stop()
    try:
        _, outcome, dossier = deposit_and_sync(hubee, demarche, None)
        assert outcome.run.status == RunStatus.OK
        assert sandbox.pending_si_notifications(demarche.subscription) == 0
        pieces = list(dossier.pieces_jointes.all())
        assert {p.scan for p in pieces} == {ScanState.PENDING}
        client.force_login(agent_for(demarche))
        url = reverse("dossiers:download", args=[dossier.pk, pieces[0].pk])
        assert client.get(url).status_code == 404
        page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
        assert "En attente d&#x27;analyse antivirus" in page
        assert client.get(reverse("dossiers:download-all", args=[dossier.pk])).status_code == 404

        incidents.evaluate()
        incident = Incident.objects.get(kind="antivirus", closed_at__isnull=True)
        assert "2 fichier(s) attendent leur analyse" in incident.detail
        assert tasks.scan_pending_files() == {"waiting": 1}
    finally:
        antivirus.start()

    assert tasks.scan_pending_files() == {"clean": 2}
    assert not Heartbeat.objects.filter(name=scanning.UNREACHABLE).exists()
    assert client.get(url).status_code == 200


def test_a_superuser_releases_an_unscannable_file_after_a_rescan(hubee, antivirus, client):
    demarche = hubee.demarche()
    files = [("gros.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("x", STREAM_MAX))]
    _, _, dossier = deposit_and_sync(hubee, demarche, files)
    piece = dossier.pieces_jointes.get()
    changelist = reverse("admin:dossiers_dossier_changelist")
    action = {"action": "release_unscannable", "_selected_action": [dossier.pk]}

    # Staff allowed to see every dossier are not offered it: a superuser decides.
    client.force_login(staff_with("dossiers.view_dossier", "dossiers.view_all_dossiers"))
    assert "release_unscannable" not in client.get(changelist).content.decode()
    client.post(changelist, action)
    piece.refresh_from_db()
    assert piece.scan == ScanState.UNSCANNABLE

    superuser = AdminFactory()
    client.force_login(superuser)
    response = client.post(changelist, action, follow=True)
    assert "1 pièce(s) libérée(s) sans analyse complète" in response.content.decode()
    piece.refresh_from_db()
    assert piece.scan == ScanState.RELEASED
    entry = AuditEntry.objects.get(action=AuditAction.ANTIVIRUS_RELEASE)
    assert (entry.username, entry.dossier_id) == (superuser.username, dossier.pk)
    assert entry.detail == "Libérée sans analyse complète (StreamMaxLength)"
    client.force_login(agent_for(demarche))
    assert client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk])).status_code == 200


def test_documents_an_agent_returns_are_scanned_once_sent(
    hubee, antivirus, client, monkeypatch, django_capture_on_commit_callbacks
):
    from dossiers.exchange import connection
    from tests.views.test_views_actions import action_url, make_demarche

    monkeypatch.setattr(connection, "client_for", hubee.client)
    demarche = make_demarche(hubee, automatic_status="SI_RECEIVED")
    _, _, dossier = deposit_and_sync(hubee, demarche, None)
    client.force_login(agent_for(demarche))
    upload = SimpleUploadedFile("attestation.pdf", pdf_bytes("attestation"), "application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url(dossier, "renvoyer-documents"),
            {"files": [upload], "attachment_type": "attestation", "confirm": "on"},
        )
    assert response.status_code == 302
    returned = dossier.pieces_jointes.get(evenement__direction="sent")
    assert returned.scan == ScanState.CLEAN
    url = reverse("dossiers:download", args=[dossier.pk, returned.pk])
    assert client.get(url).status_code == 200
