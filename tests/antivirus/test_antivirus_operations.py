"""Files already on disk: rescanned by hubee_verify --antivirus, checked in their quarantine,
purged with their dossier."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dossiers.enums import ScanState
from dossiers.models import Heartbeat, IntegrityCheck, PieceJointe
from dossiers.operations import retention
from dossiers.records import antivirus as scanning
from dossiers.records import previews
from dossiers.records.antivirus_client import ping
from hubee_portal.sandbox.content import make_pdf
from tests.antivirus.conftest import EICAR, HOSTILE_PDF, HOSTILE_SIGNATURE, SIGNATURE
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    PieceJointeFactory,
    agent_for,
)

pytestmark = pytest.mark.django_db


def verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("hubee_verify", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_verify_antivirus_finds_what_new_signatures_know(antivirus):
    dossier = DossierFactory()
    # Received before the antivirus (or before its signatures knew them): « non analysé ».
    old = PieceJointeFactory(dossier=dossier, scan=ScanState.OFF, content=EICAR)
    fine = PieceJointeFactory(dossier=dossier, scan=ScanState.CLEAN)

    code, output = verify("--antivirus")

    assert code == 1
    old.refresh_from_db()
    fine.refresh_from_db()
    assert (old.scan, fine.scan) == (ScanState.INFECTED, ScanState.CLEAN)
    assert f"pièce jointe {old.pk} bloquée ({SIGNATURE}.UNOFFICIAL)" in output
    assert not old.absolute_path.exists()
    assert scanning.quarantine_path(old).read_bytes() == EICAR
    # The integrity check finds it in the quarantine, intact: not « manquante ».
    check = IntegrityCheck.objects.latest("pk")
    assert (check.files_checked, check.missing, check.altered) == (2, 0, 0)
    # Known already: the next run has nothing new to say.
    assert verify("--antivirus")[0] == 0


def test_verify_antivirus_says_when_clamd_is_off_or_down(antivirus, settings):
    PieceJointeFactory(scan=ScanState.OFF)
    antivirus.stop()
    try:
        with pytest.raises(CommandError, match="ne répond pas"):
            verify("--antivirus")
    finally:
        antivirus.start()
    settings.ANTIVIRUS = "off"
    with pytest.raises(CommandError, match="ANTIVIRUS=off"):
        verify("--antivirus")


def test_the_purge_deletes_the_quarantined_files(antivirus):
    demarche = DemarcheFactory(retention_months=12)
    dossier = DossierFactory(
        demarche=demarche, status="DONE", hubee_closed_at=timezone.now() - timedelta(days=400)
    )
    piece = PieceJointeFactory(dossier=dossier, content=EICAR)
    assert scanning.scan_pending() == {"infected": 1}
    quarantined = scanning.quarantine_path(piece)
    assert quarantined.is_file()

    result = retention.purge()

    assert result.purged == 1
    assert result.files == 1
    assert not quarantined.exists()
    assert not quarantined.parent.exists()


def test_the_status_page_warns_while_the_antivirus_is_off(client, settings):
    client.force_login(AdminFactory())
    url = reverse("operations")
    settings.ANTIVIRUS = "off"
    page = client.get(url).content.decode()
    assert "Antivirus désactivé (ANTIVIRUS=off) :" in page
    settings.ANTIVIRUS = "clamd"
    PieceJointeFactory(scan=ScanState.PENDING)
    PieceJointeFactory(scan=ScanState.INFECTED, scan_signature="Eicar")
    page = client.get(url).content.decode()
    assert "Antivirus désactivé" not in page
    assert "1 fichier en attente d'analyse, 1 bloqué (quarantaine), 0 non analysable" in page


def test_clamd_back_with_no_file_waiting_clears_the_alarm(antivirus, tmp_path):
    assert ping(antivirus.socket)
    assert not ping(str(tmp_path / "absent.sock"))
    # clamd was down while the only waiting file was since purged.
    Heartbeat.objects.create(name=scanning.UNREACHABLE)
    assert scanning.unreachable_since() is not None

    assert scanning.scan_pending() == {}

    assert scanning.unreachable_since() is None


@pytest.fixture
def own_data_dir(settings, tmp_path):
    """Previews are cached under DATA_DIR, which the test processes share."""
    settings.DATA_DIR = tmp_path / "data"


def preview_caches(piece) -> list:
    """The folders of its rendered pages (beside them: lock and failure marks)."""
    folder = previews.dossier_folder(piece.dossier_id)
    return sorted(path for path in folder.glob(f"{piece.pk}-*") if path.is_dir())


def test_previews_of_a_file_later_found_infected_are_deleted(antivirus, client, own_data_dir):
    dossier = DossierFactory()
    # Received while the antivirus was off: both previewed by an agent since.
    hostile = PieceJointeFactory(dossier=dossier, scan=ScanState.OFF, content=HOSTILE_PDF)
    fine = PieceJointeFactory(
        dossier=dossier, scan=ScanState.OFF, content=make_pdf("Attestation", ["Rien à signaler"])
    )
    for piece in (hostile, fine):
        assert previews.render(piece).pages
    assert preview_caches(hostile) and preview_caches(fine)

    code, output = verify("--antivirus")

    assert code == 1
    assert f"pièce jointe {hostile.pk} bloquée ({HOSTILE_SIGNATURE}.UNOFFICIAL)" in output
    # Its page images showed its content: gone with it; the other file's stay.
    assert preview_caches(hostile) == []
    assert len(preview_caches(fine)) == 1
    client.force_login(agent_for(dossier.demarche))
    url = reverse("dossiers:preview", args=[dossier.pk, hostile.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("dossiers:preview", args=[dossier.pk, fine.pk])).status_code == 200


def test_hubee_verify_removes_previews_left_of_a_closed_file(own_data_dir):
    """A render that finished as the verdict came, or a removal that failed: the integrity
    check (hubee_verify, and its daily run) deletes what is left."""
    dossier = DossierFactory()
    closed = PieceJointeFactory(dossier=dossier, scan=ScanState.OFF, content=make_pdf("A", ["1"]))
    kept = PieceJointeFactory(dossier=dossier, scan=ScanState.OFF, content=make_pdf("B", ["2"]))
    for piece in (closed, kept):
        previews.render(piece)
    PieceJointe.objects.filter(pk=closed.pk).update(
        scan=ScanState.UNSCANNABLE, scan_signature="StreamMaxLength"
    )

    assert verify()[0] == 0

    assert preview_caches(closed) == []
    assert len(preview_caches(kept)) == 1
