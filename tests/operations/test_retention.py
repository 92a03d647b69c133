"""RGPD retention: expired dossiers lose files and personal data, the others are untouched, a
dry run changes nothing, the anonymous trace and the audit log remain."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from dossiers import tasks
from dossiers.enums import AuditAction, FailureKind
from dossiers.exchange import lease
from dossiers.models import (
    AuditEntry,
    Dossier,
    Evenement,
    NotificationFailure,
    OutgoingEvent,
    PieceJointe,
    PurgeRun,
)
from dossiers.operations import retention, schedules
from dossiers.records import periods, previews
from hubee_portal.sandbox.content import make_pdf
from tests.conftest import log_in
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    EvenementFactory,
    PieceJointeFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def dossier(demarche, status, closed_days_ago, name):
    d = DossierFactory(
        demarche=demarche,
        status=status,
        applicant_last_name=name,
        applicant_email=f"{name.lower()}@ex.fr",
        raw={"applicant": {"lastName": name}},
        partner_attributes=f"<x>{name}</x>",
        hubee_closed_at=NOW - timedelta(days=closed_days_ago) if closed_days_ago else None,
    )
    PieceJointeFactory(dossier=d, file_name=f"{name}.pdf", content=b"%PDF " + name.encode())
    EvenementFactory(dossier=d, message=f"Bonjour, {name}", raw={"message": name})
    return d


@pytest.fixture
def dossiers():
    demarche = DemarcheFactory(retention_months=12)
    old = dossier(demarche, "DONE", 400, "Ancien")
    recent = dossier(demarche, "REFUSED", 100, "Recent")
    open_ = dossier(demarche, "IN_PROGRESS", None, "Ouvert")
    # Open for long, never final: kept whatever its age.
    Dossier.objects.filter(pk=open_.pk).update(updated_at=NOW - timedelta(days=900))
    AuditEntry.objects.create(
        username="agent", action=AuditAction.VIEW, dossier=old, dossier_ref=old.external_id
    )
    return demarche, old, recent, open_


def snapshot():
    return (
        list(Dossier.objects.order_by("pk").values()),
        list(PieceJointe.objects.order_by("pk").values()),
        list(Evenement.objects.order_by("pk").values()),
    )


def test_dry_run_changes_nothing(dossiers):
    _, old, *_ = dossiers
    before = snapshot()
    files = sorted(p.name for p in old.folder.iterdir())
    out = StringIO()
    call_command("hubee_purge", "--dry-run", stdout=out)
    assert snapshot() == before
    assert sorted(p.name for p in old.folder.iterdir()) == files
    assert not PurgeRun.objects.exists()
    text = out.getvalue()
    assert f"Dossier {old.pk} " in text and "serait purgé" in text
    assert "Simulation : 1 dossier(s), 1 fichier(s)" in text


def test_expired_lose_files_and_personal_data(dossiers):
    _, old, recent, open_ = dossiers
    old_path = PieceJointe.objects.get(dossier=old).absolute_path
    external_id = old.external_id
    keep = {d.pk: d for d in Dossier.objects.exclude(pk=old.pk)}
    keep_pieces = list(PieceJointe.objects.exclude(dossier=old).values())
    call_command("hubee_purge", stdout=StringIO())

    assert not old_path.exists()
    assert not old.folder.exists()
    old.refresh_from_db()
    assert old.purged_at is not None
    assert (old.applicant_first_name, old.applicant_last_name, old.applicant_email) == ("", "", "")
    assert old.raw == {} and old.partner_attributes == ""
    assert not PieceJointe.objects.filter(dossier=old).exists()
    event = Evenement.objects.get(dossier=old)
    assert (event.message, event.raw) == ("", {})
    # The anonymous trace: keyed hash of the external id, dates and statuses. A plain SHA-256
    # of a sequential number could be recomputed to find it again.
    assert old.external_id == retention.trace_hash(external_id)
    assert old.external_id != hashlib.sha256(external_id.encode()).hexdigest()
    assert len(old.external_id) == 64
    assert old.status == "DONE" and old.received_at and old.hubee_closed_at
    assert event.action_type == "SENDING_MESSAGE"
    # Others untouched, files included.
    for d in Dossier.objects.exclude(pk=old.pk):
        assert d.applicant_last_name == keep[d.pk].applicant_last_name
        assert d.purged_at is None
    assert list(PieceJointe.objects.exclude(dossier=old).values()) == keep_pieces
    for piece in PieceJointe.objects.all():
        assert piece.absolute_path.exists()
    # The audit log keeps its own period.
    assert AuditEntry.objects.filter(dossier=old).count() == 1
    run = PurgeRun.objects.get()
    assert (run.dossiers_purged, run.files_deleted) == (1, 1)
    assert run.details["dossiers"] == [old.pk]
    # A second run has nothing left to do.
    call_command("hubee_purge", stdout=StringIO())
    assert PurgeRun.objects.order_by("-pk").first().dossiers_purged == 0


def test_expiry_follows_the_demarche_retention(dossiers):
    demarche, old, recent, _ = dossiers
    demarche.retention_months = 3
    demarche.save()
    tasks.purge_expired_dossiers()
    assert set(Dossier.objects.filter(purged_at__isnull=False).values_list("pk", flat=True)) == {
        old.pk,
        recent.pk,
    }


def test_purged_dossiers_leave_the_agent_pages(dossiers, client):
    _, old, *_ = dossiers
    log_in(client, AdminFactory())
    call_command("hubee_purge", stdout=StringIO())
    assert client.get(reverse("dossiers:detail", args=[old.pk])).status_code == 404
    listed = [d.pk for d in client.get(reverse("dossiers:list")).context["page_obj"]]
    assert old.pk not in listed and len(listed) == 2


def test_retention_is_validated():
    demarche = DemarcheFactory.build(retention_months=0)
    with pytest.raises(ValidationError) as error:
        demarche.full_clean(exclude=["organisation", "connection", "download_folder"])
    assert "retention_months" in error.value.message_dict


def test_daily_schedule_and_admin_page(dossiers, client):
    demarche, *_ = dossiers
    schedules.ensure_schedule()
    schedule = Schedule.objects.get(name=schedules.PURGE_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("dossiers.tasks.purge_expired_dossiers", "D")
    schedule.next_run = NOW + timedelta(days=1)
    schedule.save()
    log_in(client, AdminFactory())
    page = client.get(reverse("admin:demarches_demarche_change", args=[demarche.pk]))
    text = page.content.decode()
    assert "Conservation : 12 mois après un statut final" in text
    assert f"{timezone.localtime(schedule.next_run):%d/%m/%Y à %H:%M}" in text
    assert "1 dossier(s) à purger à cette date" in text


def test_final_date_from_the_event_when_hubee_gives_none(dossiers):
    demarche, *_ = dossiers
    d = dossier(demarche, "CLOSED", None, "Evenement")
    EvenementFactory(
        dossier=d, case_new_status="CLOSED", hubee_created_at=NOW - timedelta(days=500)
    )
    with time_machine.travel(NOW, tick=False):
        tasks.purge_expired_dossiers()
    d.refresh_from_db()
    assert d.purged_at is not None


@pytest.mark.parametrize(
    ("now", "months", "expected"),
    [
        ("2026-05-31", 1, "2026-04-30"),
        ("2026-03-31", 1, "2026-02-28"),
        ("2028-03-31", 1, "2028-02-29"),  # leap year
        ("2026-01-15", 1, "2025-12-15"),
        ("2026-11-29", 36, "2023-11-29"),
        ("2026-02-28", 12, "2025-02-28"),
    ],
)
def test_months_before_keeps_the_day_or_takes_the_last_one(now, months, expected):
    from datetime import datetime

    start = datetime.fromisoformat(now).replace(hour=2, tzinfo=timezone.get_current_timezone())
    assert periods.months_before(start, months).date().isoformat() == expected


def test_a_dossier_with_a_pending_push_is_postponed(dossiers):
    _, old, *_ = dossiers
    OutgoingEvent.objects.create(
        dossier=old, action_type="SENDING_MESSAGE", message="Votre acte est prêt.", author="Agent"
    )
    out = StringIO()
    call_command("hubee_purge", stdout=out)
    old.refresh_from_db()
    assert old.purged_at is None and old.applicant_last_name == "Ancien"
    assert OutgoingEvent.objects.get().message == "Votre acte est prêt."
    assert "reporté (un envoi à HubEE est encore en attente)" in out.getvalue()
    run = PurgeRun.objects.get()
    assert (run.dossiers_purged, run.details["postponed"]) == (0, [old.pk])
    OutgoingEvent.objects.update(state="sent")
    call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is not None


def test_a_demarche_being_synced_is_tried_again_then_left_for_next_time(dossiers, monkeypatch):
    demarche, old, *_ = dossiers
    syncing = lease.new_owner()
    assert lease.acquire(demarche.pk, syncing, timedelta(minutes=10))
    waits = []
    monkeypatch.setattr(retention.time, "sleep", waits.append)
    out = StringIO()
    call_command("hubee_purge", stdout=out)
    assert waits == [retention.BUSY_WAIT] * (retention.BUSY_ATTEMPTS - 1)
    old.refresh_from_db()
    assert old.purged_at is None
    assert f"Démarche {demarche.pk} : synchronisation en cours" in out.getvalue()
    assert PurgeRun.objects.get().details["busy_demarches"] == [demarche.pk]
    lease.release(demarche.pk, syncing)
    call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is not None


def test_a_sync_that_ends_meanwhile_lets_the_purge_through(dossiers, monkeypatch):
    demarche, old, *_ = dossiers
    syncing = lease.new_owner()
    assert lease.acquire(demarche.pk, syncing, timedelta(minutes=10))
    monkeypatch.setattr(retention.time, "sleep", lambda s: lease.release(demarche.pk, syncing))
    call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is not None
    assert PurgeRun.objects.get().details["busy_demarches"] == []


def test_failure_texts_of_the_case_are_erased(dossiers):
    _, old, recent, _ = dossiers
    texts = {}
    for d in (old, recent):
        failure = NotificationFailure.objects.create(
            demarche=d.demarche,
            notification_id=d.hubee_case_id,
            case_id=d.hubee_case_id,
            kind=FailureKind.LOCAL,
            error=f"Erreur disque ({d.folder}/{d.applicant_last_name}.pdf)",
        )
        texts[d.pk] = (failure.pk, failure.error)
    call_command("hubee_purge", stdout=StringIO())
    assert NotificationFailure.objects.get(pk=texts[old.pk][0]).error == retention.ERASED
    assert NotificationFailure.objects.get(pk=texts[recent.pk][0]).error == texts[recent.pk][1]


def test_failure_texts_of_another_demarche_for_the_same_case_are_left(dossiers):
    """Purging A's dossier erases A's journal only: another démarche's failure for the same case
    id (a notification it was refused, its connection answering A's case) is its own."""
    _, old, *_ = dossiers
    ours = NotificationFailure.objects.create(
        demarche=old.demarche,
        notification_id=uuid.uuid4(),
        case_id=old.hubee_case_id,
        kind=FailureKind.LOCAL,
        error=f"Erreur disque ({old.folder}/{old.applicant_last_name}.pdf)",
    )
    refused = "Ce cas HubEE appartient déjà à une autre démarche du portail."
    theirs = NotificationFailure.objects.create(
        demarche=DemarcheFactory(),
        notification_id=uuid.uuid4(),
        case_id=old.hubee_case_id,
        kind=FailureKind.INVALID,
        error=refused,
    )
    call_command("hubee_purge", stdout=StringIO())
    assert NotificationFailure.objects.get(pk=ours.pk).error == retention.ERASED
    assert NotificationFailure.objects.get(pk=theirs.pk).error == refused


def test_a_file_that_cannot_be_deleted_is_retried_and_not_counted(dossiers, monkeypatch):
    _, old, *_ = dossiers
    from pathlib import Path

    real_unlink = Path.unlink

    def refuse(self, missing_ok=False):
        if self.name == "Ancien.pdf":
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "unlink", refuse)
        call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is None and old.applicant_last_name == "Ancien"
    run = PurgeRun.objects.get()
    assert (run.dossiers_purged, run.files_deleted, run.details["errors"]) == (0, 0, [old.pk])
    call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is not None


def test_returned_documents_and_their_batch_folder_go(dossiers):
    from dossiers.exchange.outbound.queue import RETURN_FOLDER
    from dossiers.models import OutgoingAttachment

    _, old, recent, _ = dossiers
    folders = {}
    for d in (old, recent):
        outgoing = OutgoingEvent.objects.create(
            dossier=d, action_type="ATTACH_DEPOSIT", author="Agent", state="sent"
        )
        batch = f"{RETURN_FOLDER}/{d.pk:032x}"
        item = OutgoingAttachment.objects.create(
            outgoing=outgoing,
            position=0,
            file_name="acte.pdf",
            attachment_type="Acte",
            mime_type="application/pdf",
            size=5,
            sha256="0" * 64,
            stored_path=f"{batch}/acte.pdf",
        )
        item.absolute_path.parent.mkdir(parents=True)
        item.absolute_path.write_bytes(b"%PDF ")
        folders[d.pk] = item.absolute_path.parent
    call_command("hubee_purge", stdout=StringIO())
    assert not folders[old.pk].exists()
    assert (folders[recent.pk] / "acte.pdf").exists()
    assert not OutgoingAttachment.objects.filter(outgoing__dossier=old).exists()


def test_the_purge_deletes_the_preview_images_of_expired_dossiers_only(
    dossiers, settings, tmp_path
):
    settings.DATA_DIR = tmp_path / "data"
    _, old, recent, _ = dossiers
    content = make_pdf("Acte", ["Ligne"])
    rendered = {}
    for dossier in (old, recent):
        piece = PieceJointe.objects.get(dossier=dossier)
        piece.absolute_path.write_bytes(content)
        PieceJointe.objects.filter(pk=piece.pk).update(sha256="", size=len(content))
        piece.refresh_from_db()
        rendered[dossier.pk] = previews.render(piece).pages[0]
    folder = previews.dossier_folder(old.pk)
    assert rendered[old.pk].is_relative_to(folder)

    call_command("hubee_purge", "--dry-run", stdout=StringIO())
    assert rendered[old.pk].is_file()
    call_command("hubee_purge", stdout=StringIO())
    assert not folder.exists()
    assert rendered[recent.pk].is_file()


def test_a_preview_folder_that_cannot_be_deleted_is_retried(dossiers, monkeypatch):
    _, old, *_ = dossiers

    def refuse(dossier_pk):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(previews, "delete_for", refuse)
        call_command("hubee_purge", stdout=StringIO())
    old.refresh_from_db()
    assert old.purged_at is None
    assert PurgeRun.objects.get().details["errors"] == [old.pk]
