"""Done when of issue 19: an EICAR file deposited with the sandbox's form, synced by the real
client over HTTP (the live server serves the sandbox), scanned by the real clamd, ends
quarantined; its dossier is otherwise complete, and the agent can neither download nor
preview it nor get it in the ZIP."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core import mail
from django.urls import reverse

from dossiers.enums import RunStatus, ScanState
from dossiers.models import Dossier
from dossiers.records import antivirus as scanning
from hubee_portal.sandbox import content
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.models import Case
from tests.antivirus.conftest import EICAR, SIGNATURE
from tests.browser.test_browser_agent import live_portal
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db(transaction=True)


def deposit_with_eicar(client, subscription) -> Case:
    """The sandbox's deposit form, as an administrator fills it: generated files, plus EICAR."""
    client.force_login(AdminFactory())
    url = reverse("sandbox:osl-deposit", args=[subscription.pk])
    form = client.get(url).content.decode()
    assert "Joindre aussi le fichier de test antivirus EICAR" in form
    response = client.post(
        url,
        {"prenom": "Camille", "nom": "Martin", "type_piece": "ActeEtatCivil-PDF", "eicar": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    return Case.objects.get(subscription=subscription)


def test_eicar_from_the_sandbox_is_quarantined_its_dossier_otherwise_complete(
    live_server, antivirus, client, settings, tmp_path
):
    settings.ADMINS = [("Informatique", "informatique@mairie.example")]
    portal = live_portal(live_server, tmp_path)
    subscription = portal.demarche.subscription
    case = deposit_with_eicar(client, subscription)

    outcome = portal.sync()

    # The sync is not judged on the scan: the case is stored and acknowledged.
    assert outcome.run.status == RunStatus.OK
    assert sandbox.pending_si_notifications(subscription) == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    infected = dossier.pieces_jointes.get(file_name=content.EICAR_FILE_NAME)
    others = list(dossier.pieces_jointes.exclude(pk=infected.pk))
    assert others, "the sandbox's generated files came with it"
    assert {piece.scan for piece in others} == {ScanState.CLEAN}
    assert infected.scan == ScanState.INFECTED
    assert infected.scan_signature == f"{SIGNATURE}.UNOFFICIAL"
    # Out of the démarche folder, into the quarantine; the staff told.
    assert not infected.absolute_path.exists()
    assert scanning.quarantine_path(infected).read_bytes() == EICAR
    [alert] = mail.outbox
    assert alert.subject.endswith("Fichier bloqué par l'antivirus")
    assert SIGNATURE in alert.body

    client.force_login(portal.agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert f"Fichier bloqué par l&#x27;antivirus ({SIGNATURE}.UNOFFICIAL)" in page
    assert reverse("dossiers:download", args=[dossier.pk, infected.pk]) not in page
    for name in ("dossiers:download", "dossiers:preview"):
        assert client.get(reverse(name, args=[dossier.pk, infected.pk])).status_code == 404
    for piece in others:
        response = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == piece.absolute_path.read_bytes()
    response = client.get(reverse("dossiers:download-all", args=[dossier.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(entry.filename for entry in archive.infolist()) == sorted(
        f"{dossier.folder_name}/{piece.file_name}" for piece in others
    )
