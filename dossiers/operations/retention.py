"""RGPD retention: Demarche.retention_months after a final status (DONE, REFUSED, CLOSED), a
dossier loses its files and personal data. The row stays as an anonymous trace for statistics:
a keyed hash of the external id (HMAC: sequential numbers cannot be hashed again to find it),
dates, statuses, event types. HubEE's case id stays: a random id that lets the sync recognise a
case HubEE sends again. The audit log is not touched (its own retention,
settings.AUDIT_RETENTION_MONTHS: it proves who saw which télédossier number)."""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from demarches.models import Demarche
from dossiers.enums import OutgoingState
from dossiers.exchange import lease
from dossiers.exchange.lease import LEASE_TTL
from dossiers.exchange.outbound.queue import RETURN_FOLDER
from dossiers.models import (
    Dossier,
    DossierActivity,
    Evenement,
    NotificationFailure,
    OutgoingAttachment,
    OutgoingEvent,
    PieceJointe,
    PurgeRun,
)
from dossiers.records import antivirus, previews, storage
from dossiers.records.periods import months_before
from hubee_portal.hubee.vocabulary import RETENTION_START

logger = logging.getLogger(__name__)

ERASED = "Effacé par la purge RGPD."
# A démarche being synced is tried again BUSY_ATTEMPTS times in all, BUSY_WAIT seconds apart.
BUSY_ATTEMPTS = 4
BUSY_WAIT = 20.0


def trace_hash(external_id: str) -> str:
    return salted_hmac("hubee-portal.retention", external_id, algorithm="sha256").hexdigest()


def with_final_at(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Annotate `final_at`: when the dossier reached its final status (HubEE's close date, else
    the event that set it, else the last change)."""
    final_event = Evenement.objects.filter(
        dossier=OuterRef("pk"), case_new_status__in=RETENTION_START
    ).order_by("-hubee_created_at")
    return queryset.annotate(
        final_at=Coalesce(
            "hubee_closed_at",
            Subquery(final_event.values("hubee_created_at")[:1]),
            "hubee_updated_at",
            "updated_at",
            output_field=DateTimeField(),
        )
    )


def expired(demarche: Demarche, now: datetime | None = None) -> QuerySet[Dossier]:
    limit = months_before(now or timezone.now(), demarche.retention_months)
    return (
        with_final_at(Dossier.objects.filter(demarche=demarche))
        .filter(status__in=RETENTION_START, purged_at__isnull=True, final_at__lt=limit)
        .order_by("pk")
    )


def expired_counts(demarches: list[Demarche], now: datetime | None = None) -> dict[int, int]:
    """How many dossiers expired() finds in each démarche, in one query: the limit of each
    distinct retention period (a few) picked through the démarche's own."""
    now = now or timezone.now()
    periods = {demarche.retention_months for demarche in demarches}
    if not periods:
        return {}
    limit = Case(
        *[
            When(demarche__retention_months=months, then=Value(months_before(now, months)))
            for months in sorted(periods)
        ],
        output_field=DateTimeField(),
    )
    rows = (
        with_final_at(Dossier.objects.filter(demarche_id__in=[d.pk for d in demarches]))
        .filter(status__in=RETENTION_START, purged_at__isnull=True)
        .annotate(limit=limit)
        .filter(final_at__lt=F("limit"))
        .values_list("demarche_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


@dataclass
class PurgeResult:
    dossiers: list[Dossier] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    errors: list[int] = field(default_factory=list)
    # Expired but kept this time: a push to HubEE still pending, or the démarche being synced.
    postponed: list[int] = field(default_factory=list)
    busy_demarches: list[int] = field(default_factory=list)
    run: PurgeRun | None = None

    @property
    def purged(self) -> int:
        return len(self.dossiers) - len(self.errors) - len(self.postponed)


def purge(dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
    now = now or timezone.now()
    result = PurgeResult()
    waiting = list(Demarche.objects.order_by("pk"))
    for attempt in range(BUSY_ATTEMPTS):
        if attempt:
            time.sleep(BUSY_WAIT)  # a sync takes seconds: try the busy ones again soon
        busy = []
        for demarche in waiting:
            if dry_run:
                _purge_demarche(demarche, result, dry_run, now)
                continue
            # Never beside the démarche's sync, which could store again what the purge erases;
            # renewed while it lasts (a first purge of years of dossiers can outlast the TTL).
            with lease.held(demarche.pk, LEASE_TTL) as keeper:
                if keeper is None:
                    busy.append(demarche)
                else:
                    _purge_demarche(demarche, result, dry_run, now, keeper.lost)
        waiting = busy
        if not waiting:
            break
    result.busy_demarches += [demarche.pk for demarche in waiting]
    if not dry_run:
        result.run = PurgeRun.objects.create(
            started_at=now,
            finished_at=timezone.now(),
            dossiers_purged=result.purged,
            files_deleted=result.files,
            bytes_deleted=result.bytes,
            details={
                "dossiers": [d.pk for d in result.dossiers],
                "errors": result.errors,
                "postponed": result.postponed,
                "busy_demarches": result.busy_demarches,
            },
        )
    return result


def _purge_demarche(
    demarche: Demarche,
    result: PurgeResult,
    dry_run: bool,
    now: datetime,
    lease_lost: threading.Event | None = None,
) -> None:
    pending = set(
        OutgoingEvent.objects.filter(
            dossier__demarche=demarche, state=OutgoingState.PENDING
        ).values_list("dossier_id", flat=True)
    )
    for dossier in expired(demarche, now).select_related("demarche"):
        if lease_lost is not None and lease_lost.is_set():
            result.busy_demarches.append(demarche.pk)  # a sync has it: the rest next time
            return
        result.dossiers.append(dossier)
        if dossier.pk in pending:
            # Its push would reach HubEE emptied (message, author, files): purge it next time.
            result.postponed.append(dossier.pk)
            continue
        files, size = _files_of(dossier)
        if dry_run or _purge_one(dossier, files, now):
            result.files += len(files)
            result.bytes += size
        else:
            result.errors.append(dossier.pk)


def _files_of(dossier: Dossier) -> tuple[list[Path], int]:
    root = Path(dossier.demarche.download_folder)
    paths = [
        *PieceJointe.objects.filter(dossier=dossier).values_list("stored_path", flat=True),
        *OutgoingAttachment.objects.filter(outgoing__dossier=dossier).values_list(
            "stored_path", flat=True
        ),
    ]
    files, size = [], 0
    for relative in paths:
        try:
            path = storage.resolve_inside(root, relative)
        except storage.UnsafePathError:
            continue
        if path.is_file():
            files.append(path)
            size += path.stat().st_size
    # Those the antivirus moved out of the démarche folder go too.
    for path in sorted(antivirus.quarantine_folder(dossier.pk).glob("*.quarantaine")):
        files.append(path)
        size += path.stat().st_size
    return files, size


def _purge_one(dossier: Dossier, files: list[Path], now: datetime) -> bool:
    """Files first (a crash leaves the data, and the next run retries), then the rows."""
    root = Path(dossier.demarche.download_folder)
    ok = True
    for path in files:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            ok = False
            continue
        if path.parent.parent.name == RETURN_FOLDER:
            # A returned-documents batch folder, removed once empty (OSError: files left).
            with contextlib.suppress(OSError):
                path.parent.rmdir()
    try:
        folder = storage.resolve_inside(root, dossier.folder_name)
        if folder.is_dir():
            shutil.rmtree(folder)
    except (storage.UnsafePathError, OSError):
        ok = False
    try:
        previews.delete_for(dossier.pk)  # its page images show the files' content
        antivirus.delete_quarantine_for(dossier.pk)
    except OSError:
        ok = False
    if not ok:
        logger.warning("purge: files of dossier %s not all removed, retried next run", dossier.pk)
        return False
    digest = trace_hash(dossier.external_id)
    with transaction.atomic():
        PieceJointe.objects.filter(dossier=dossier).delete()
        OutgoingAttachment.objects.filter(outgoing__dossier=dossier).delete()
        Evenement.objects.filter(dossier=dossier).update(message="", comment="", author="", raw={})
        OutgoingEvent.objects.filter(dossier=dossier).update(message="", author="", last_error="")
        # Notes may quote the citizen; who was in charge is no personal data of theirs, but
        # nobody is in charge of a purged dossier.
        DossierActivity.objects.filter(dossier=dossier).update(text="")
        # Their error texts may name the folder (the external id) or a file name.
        NotificationFailure.objects.filter(
            demarche_id=dossier.demarche_id, case_id=dossier.hubee_case_id
        ).update(error=ERASED)
        Dossier.objects.filter(pk=dossier.pk).update(
            external_id=digest,
            folder_name=f"purge-{digest}",
            applicant_first_name="",
            applicant_last_name="",
            applicant_email="",
            partner_attributes="",
            raw={},
            purged_at=now,
            assigned_to=None,
            assigned_at=None,
        )
    return True
