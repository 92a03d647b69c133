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
from dossiers.models import Heartbeat, IntegrityCheck
from dossiers.operations import retention
from dossiers.records import antivirus as scanning
from dossiers.records.antivirus_client import ping
from tests.antivirus.conftest import EICAR, SIGNATURE
from tests.conftest import log_in
from tests.factories import AdminFactory, DemarcheFactory, DossierFactory, PieceJointeFactory

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
    log_in(client, AdminFactory())
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
