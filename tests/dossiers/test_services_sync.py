"""The sync service against the sandbox: what an agent and the IT person would notice."""

from __future__ import annotations

import errno
import hashlib

import pytest

from dossiers.enums import AttachmentState, Direction, FailureKind, OutgoingState, RunStatus
from dossiers.exchange.run import run_all
from dossiers.models import Dossier, Evenement, NotificationFailure, OutgoingEvent, PieceJointe
from dossiers.records import storage
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.conftest import pdf_bytes

pytestmark = pytest.mark.django_db


def remaining(demarche) -> int:
    return sandbox.pending_si_notifications(demarche.subscription)


def files_on_disk(demarche) -> dict[str, bytes]:
    root = demarche.download_folder
    from pathlib import Path

    return {str(p.relative_to(root)): p.read_bytes() for p in Path(root).rglob("*") if p.is_file()}


def test_new_case_is_stored_with_identical_files_then_acknowledged(hubee):
    demarche = hubee.demarche("EtatCivil", automatic_status="SI_RECEIVED")
    files = [
        ("acte.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("acte", 50_000)),
        ("acte.xml", "ActeEtatCivil-XML", "application/xml", b"<DemandeActe>1</DemandeActe>"),
    ]
    case = hubee.deposit(demarche, files=files, external_id="DILA-AEC-0000000000001-01")

    outcome = hubee.sync(demarche)

    dossier = Dossier.objects.get(hubee_case_id=case.id)
    assert dossier.external_id == "DILA-AEC-0000000000001-01"
    assert dossier.applicant_last_name == "Martin"
    assert dossier.status == "SI_RECEIVED"
    on_disk = files_on_disk(demarche)
    assert on_disk == {
        "DILA-AEC-0000000000001-01/acte.pdf": files[0][3],
        "DILA-AEC-0000000000001-01/acte.xml": files[1][3],
    }
    for piece in dossier.pieces_jointes.all():
        assert piece.state == AttachmentState.STORED
        assert piece.sha256 == hashlib.sha256(piece.absolute_path.read_bytes()).hexdigest()
    # HubEE saw exactly one status push, and the notification is gone.
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert sandbox.case_as_hubee_sees_it(case)["status"] == "SI_RECEIVED"
    assert remaining(demarche) == 0
    run = outcome.run
    assert (run.status, run.dossiers_created, run.files_downloaded) == (RunStatus.OK, 1, 2)
    assert run.bytes_downloaded == len(files[0][3]) + len(files[1][3])
    sent = Evenement.objects.get(dossier=dossier, direction=Direction.SENT)
    assert sent.case_new_status == "SI_RECEIVED"


def test_idle_poll_costs_one_call(hubee):
    demarche = hubee.demarche()
    hubee.deposit(demarche)
    hubee.sync(demarche)
    before = hubee.client(demarche).stats.calls
    outcome = hubee.sync(demarche)
    assert hubee.client(demarche).stats.calls - before == 1
    assert outcome.run.api_calls == 1


def test_official_behaviour_pushes_minimal_then_final_status(hubee):
    demarche = hubee.demarche(automatic_status="IN_PROGRESS", automatic_final_status="DONE")
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    assert sandbox.status_pushes(case) == ["IN_PROGRESS", "DONE"]
    assert Dossier.objects.get().status == "DONE"


def test_no_automatic_status_leaves_the_case_to_agents(hubee):
    demarche = hubee.demarche(automatic_status="")
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    assert sandbox.status_pushes(case) == []
    assert remaining(demarche) == 0


def test_more_than_one_batch_of_notifications(hubee):
    demarche = hubee.demarche()
    one_file = [("a.pdf", "t", "application/pdf", b"%PDF")]
    cases = [hubee.deposit(demarche, files=one_file) for _ in range(30)]
    outcome = hubee.sync(demarche)
    assert Dossier.objects.count() == 30
    assert outcome.run.notifications_handled == 30
    assert remaining(demarche) == 0
    assert all(sandbox.status_pushes(case) == ["SI_RECEIVED"] for case in cases)


def test_purged_cases_ahead_of_good_ones_do_not_block_them_and_are_given_up(hubee):
    demarche = hubee.demarche()
    demarche.connection.not_found_attempts = 3
    demarche.connection.save()
    purged = [hubee.deposit(demarche) for _ in range(30)]
    for case in purged:
        sandbox.purge_case(case)
    good = [hubee.deposit(demarche) for _ in range(5)]

    first = hubee.sync(demarche)
    assert set(Dossier.objects.values_list("hubee_case_id", flat=True)) == {c.id for c in good}
    assert first.run.status == RunStatus.PARTIAL
    assert first.pending_failures == 30
    failure = NotificationFailure.objects.filter(case_id=purged[0].id).get()
    assert failure.kind == FailureKind.NOT_FOUND
    assert "Case is not found" in failure.error
    assert remaining(demarche) == 30  # nothing deleted on a first 404

    hubee.sync(demarche)
    assert remaining(demarche) == 30
    third = hubee.sync(demarche)
    assert remaining(demarche) == 0
    assert third.pending_failures == 0
    assert NotificationFailure.objects.filter(given_up=True).count() == 30


def test_event_received_acknowledgement_is_recorded_and_deleted(hubee):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    ours = Evenement.objects.get(direction=Direction.SENT)
    sandbox.osl_acknowledge(sandbox.event(ours.hubee_event_id))
    assert remaining(demarche) == 1

    hubee.sync(demarche)
    ours.refresh_from_db()
    assert ours.hubee_status == "RECEIVED"
    assert remaining(demarche) == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]


def test_attach_deposit_on_a_known_dossier_adds_files_and_acknowledges(hubee):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche, files=[("piece.pdf", "t", "application/pdf", b"%PDF-1")])
    hubee.sync(demarche)
    complement = pdf_bytes("complement")
    event = sandbox.osl_attach_deposit(
        case, files=[("piece.pdf", "jf", "application/pdf", complement)]
    )

    hubee.sync(demarche)

    dossier = Dossier.objects.get()
    stored = dossier.pieces_jointes.get(evenement__hubee_event_id=event.id)
    # Same name as the first file: a suffix, never an overwrite.
    assert stored.stored_path.endswith("piece (2).pdf")
    assert stored.absolute_path.read_bytes() == complement
    assert (dossier.folder / "piece.pdf").read_bytes() == b"%PDF-1"
    assert sandbox.case_as_hubee_sees_it(case)["events"][-1]["status"] == "RECEIVED"
    assert remaining(demarche) == 0


def test_attach_deposit_on_an_unknown_case_creates_the_dossier(hubee):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche, files=[("initial.pdf", "t", "application/pdf", b"%PDF-0")])
    sandbox.drop_si_notifications(demarche.subscription)  # its first notification was lost
    sandbox.osl_attach_deposit(case, files=[("ajout.pdf", "t", "application/pdf", b"%PDF-2")])

    hubee.sync(demarche)

    dossier = Dossier.objects.get(hubee_case_id=case.id)
    names = sorted(p.file_name for p in dossier.pieces_jointes.all())
    assert names == ["ajout.pdf", "initial.pdf"]
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert remaining(demarche) == 0


def test_message_and_closure_from_the_citizen_side(hubee):
    demarche = hubee.demarche(rules={"allows_messages": True}, allows_messages=True)
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    sandbox.osl_message(case, "Je joins mon livret de famille demain.")
    sandbox.osl_close(case)

    hubee.sync(demarche)

    dossier = Dossier.objects.get()
    messages = list(
        dossier.evenements.filter(action_type="SENDING_MESSAGE").values_list("message", flat=True)
    )
    assert messages == ["Je joins mon livret de famille demain."]
    # Kept by the exchange for the list's « nouveau message de l'usager ».
    message = dossier.evenements.get(action_type="SENDING_MESSAGE")
    assert dossier.last_citizen_at == message.created_at
    assert dossier.status == "CLOSED"
    assert remaining(demarche) == 0


def test_hostile_file_names_stay_inside_the_folder(hubee):
    demarche = hubee.demarche()
    files = [
        ("../../../etc/cron.d/evil", "t", "text/plain", b"1"),
        ("facture\u202efdp.exe", "t", "application/pdf", b"2"),
        ("doublon.pdf", "t", "application/pdf", b"3"),
        ("doublon.pdf", "t", "application/pdf", b"4"),
    ]
    hubee.deposit(demarche, files=files, external_id="../../hors-dossier")
    hubee.sync(demarche)
    on_disk = files_on_disk(demarche)
    assert sorted(on_disk) == [
        "_.._hors-dossier/_.._.._etc_cron.d_evil",
        "_.._hors-dossier/doublon (2).pdf",
        "_.._hors-dossier/doublon.pdf",
        "_.._hors-dossier/facturefdp.exe",
    ]
    assert sorted(on_disk.values()) == [b"1", b"2", b"3", b"4"]


def test_unavailable_files_are_recorded_and_pending_ones_keep_the_notification(hubee):
    demarche = hubee.demarche()
    hubee.deposit(
        demarche,
        files=[
            ("virus.pdf", "t", "application/pdf", b"X"),
            ("ok.pdf", "t", "application/pdf", b"Y"),
        ],
        attachment_statuses=["CORRUPTED", "RECEIVED"],
    )
    hubee.sync(demarche)
    corrupted = PieceJointe.objects.get(file_name="virus.pdf")
    assert corrupted.state == AttachmentState.UNAVAILABLE
    assert "antivirus" in corrupted.state_detail
    assert remaining(demarche) == 0

    case = hubee.deposit(
        demarche, files=[("lent.pdf", "t", "application/pdf", b"Z")], attachment_status="PENDING"
    )
    outcome = hubee.sync(demarche)
    assert remaining(demarche) == 1
    assert outcome.run.status == RunStatus.PARTIAL
    assert sandbox.status_pushes(case) == []  # no status before every file is stored
    sandbox.set_attachments_status(case, "RECEIVED")
    hubee.sync(demarche)
    assert remaining(demarche) == 0
    assert PieceJointe.objects.get(file_name="lent.pdf").state == AttachmentState.STORED
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_disk_full_deletes_nothing_and_the_next_run_recovers(hubee, monkeypatch, code):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    real_open_temp = storage.open_temp

    def failing_open_temp(folder):
        raise OSError(code, __import__("os").strerror(code), str(folder))

    monkeypatch.setattr(storage, "open_temp", failing_open_temp)
    outcome = hubee.sync(demarche)
    failure = NotificationFailure.objects.get()
    assert failure.kind == FailureKind.LOCAL
    assert __import__("os").strerror(code) in failure.error
    # The démarche's folder, for the IT person; never the dossier's folder (its number).
    assert f"(dans le dossier de la démarche {demarche.download_folder})" in failure.error
    assert Dossier.objects.get().folder_name not in failure.error
    assert outcome.run.status == RunStatus.PARTIAL
    assert remaining(demarche) == 1
    assert sandbox.status_pushes(case) == []

    monkeypatch.setattr(storage, "open_temp", real_open_temp)
    hubee.sync(demarche)
    assert remaining(demarche) == 0
    assert PieceJointe.objects.filter(state=AttachmentState.STORED).count() == 2
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]


def test_bad_credentials_on_one_demarche_do_not_stop_the_others(hubee, monkeypatch):
    broken = hubee.demarche("recensementCitoyen", real_secret="mauvais-secret")
    working = hubee.demarche("EtatCivil")
    hubee.deposit(broken)
    hubee.deposit(working)
    monkeypatch.setattr("dossiers.exchange.connection.client_for", hubee.client)

    outcomes = run_all([broken, working])

    by_code = {o.demarche.process_code: o for o in outcomes}
    assert "Identifiants refusés" in by_code["recensementCitoyen"].connection_error
    assert by_code["recensementCitoyen"].run.status == RunStatus.FAILED
    assert by_code["EtatCivil"].run.status == RunStatus.OK
    assert Dossier.objects.filter(demarche=working).count() == 1
    assert remaining(broken) == 1


def test_ambiguous_status_push_is_not_sent_twice(hubee, monkeypatch):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    sandbox.set_faults(drop_response_after_post=1)  # HubEE processes the POST, the answer is lost
    hubee.sync(demarche)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert OutgoingEvent.objects.get().state == OutgoingState.SENT
    assert remaining(demarche) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_sync_stores_everything(hubee):
    demarche = hubee.demarche()
    cases = [hubee.deposit(demarche) for _ in range(12)]
    hubee.sync(demarche, concurrency=4)
    assert Dossier.objects.count() == 12
    assert all(sandbox.status_pushes(c) == ["SI_RECEIVED"] for c in cases)
    assert remaining(demarche) == 0


def test_unusable_download_folder_stops_the_demarche_and_deletes_nothing(hubee, monkeypatch):
    demarche = hubee.demarche()
    hubee.deposit(demarche)

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(storage, "ensure_dir", read_only)
    outcome = hubee.sync(demarche)
    assert outcome.run.status == RunStatus.FAILED
    assert "Dossier de téléchargement inutilisable" in outcome.error
    assert "Read-only file system" in outcome.run.message
    assert outcome.connection_error is None
    assert remaining(demarche) == 1


def test_a_demarche_is_synced_by_one_run_at_a_time(hubee):
    from datetime import timedelta

    from dossiers.exchange import lease

    demarche = hubee.demarche()
    hubee.deposit(demarche)
    assert lease.acquire(demarche.pk, "autre-worker", timedelta(minutes=5))
    outcome = hubee.sync(demarche)
    assert outcome.skipped
    assert remaining(demarche) == 1
    # An expired lease (its worker died) is taken over.
    assert lease.acquire(demarche.pk, "autre-worker", timedelta(seconds=-1))
    outcome = hubee.sync(demarche)
    assert not outcome.skipped
    assert remaining(demarche) == 0


def test_a_complement_from_the_citizen_moves_the_dossier_back_to_new(hubee):
    demarche = hubee.demarche(rules={"allows_add_awaiting": True, "allows_messages": True})
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    Dossier.objects.update(status="ADD_AWAITING")
    sandbox.osl_attach_deposit(
        case,
        [("livret.pdf", "jf", "application/pdf", b"%PDF-livret")],
        case_new_status="HUBEE_NOTIFIED",
    )
    hubee.sync(demarche)
    assert Dossier.objects.get().status == "HUBEE_NOTIFIED"


def test_a_purged_dossier_never_gets_its_personal_data_back(hubee):
    from datetime import timedelta

    from django.utils import timezone

    from dossiers.operations import retention

    demarche = hubee.demarche(rules={"allows_messages": True}, retention_months=1)
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    sandbox.osl_close(case)
    hubee.sync(demarche)
    retention.purge(now=timezone.now() + timedelta(days=400))
    dossier = Dossier.objects.get()
    assert dossier.purged_at is not None
    assert dossier.applicant_last_name == ""

    # The OSL re-sends the case: a new-case notification for the purged dossier.
    from hubee_portal.sandbox.models import Notification

    Notification.objects.create(
        subscription=demarche.subscription, recipient_type="SI", case=case, sequence=10**9
    )
    assert remaining(demarche) == 1
    hubee.sync(demarche)
    dossier.refresh_from_db()
    assert dossier.applicant_last_name == ""
    assert files_on_disk(demarche) == {}
    assert remaining(demarche) == 0


def test_two_cases_with_the_same_external_id_get_two_folders(hubee):
    demarche = hubee.demarche()
    hubee.deposit(demarche, files=[("a.pdf", "t", "application/pdf", b"1")], external_id="X-01")
    hubee.deposit(demarche, files=[("a.pdf", "t", "application/pdf", b"2")], external_id="X-01")
    hubee.sync(demarche)
    assert files_on_disk(demarche) == {"X-01/a.pdf": b"1", "X-01 (2)/a.pdf": b"2"}
