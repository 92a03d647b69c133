"""RGPD retention: Demarche.retention_months after a final status (DONE, REFUSED, CLOSED), a
dossier loses its files and personal data. The row stays as an anonymous trace for statistics:
SHA-256 of the external id, dates, statuses, event types. The audit log is not touched (it has
its own retention, settings.AUDIT_RETENTION_MONTHS)."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from demarches.enums import CaseStatus
from demarches.models import Demarche
from dossiers import storage
from dossiers.models import (
    Dossier,
    Evenement,
    OutgoingAttachment,
    OutgoingEvent,
    PieceJointe,
    PurgeRun,
)

logger = logging.getLogger(__name__)

FINAL_STATUSES = [CaseStatus.DONE, CaseStatus.REFUSED, CaseStatus.CLOSED]


def months_before(now: datetime, months: int) -> datetime:
    year, month = divmod(now.month - 1 - months, 12)
    return now.replace(year=now.year + year, month=month + 1, day=min(now.day, 28))


def with_final_at(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Annotate `final_at`: when the dossier reached its final status (HubEE's close date, else
    the event that set it, else the last change)."""
    final_event = Evenement.objects.filter(
        dossier=OuterRef("pk"), case_new_status__in=FINAL_STATUSES
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
        .filter(status__in=FINAL_STATUSES, purged_at__isnull=True, final_at__lt=limit)
        .order_by("pk")
    )


@dataclass
class PurgeResult:
    dossiers: list[Dossier] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    errors: list[int] = field(default_factory=list)
    run: PurgeRun | None = None


def purge(dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
    now = now or timezone.now()
    result = PurgeResult()
    for demarche in Demarche.objects.order_by("pk"):
        for dossier in expired(demarche, now).select_related("demarche"):
            files, size = _files_of(dossier)
            result.dossiers.append(dossier)
            result.files += len(files)
            result.bytes += size
            if not dry_run and not _purge_one(dossier, files, now):
                result.errors.append(dossier.pk)
    if not dry_run:
        result.run = PurgeRun.objects.create(
            started_at=now,
            finished_at=timezone.now(),
            dossiers_purged=len(result.dossiers) - len(result.errors),
            files_deleted=result.files,
            bytes_deleted=result.bytes,
            details={"dossiers": [d.pk for d in result.dossiers], "errors": result.errors},
        )
    return result


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
    try:
        folder = storage.resolve_inside(root, dossier.folder_name)
        if folder.is_dir():
            shutil.rmtree(folder)
    except (storage.UnsafePathError, OSError):
        ok = False
    if not ok:
        logger.warning("purge: files of dossier %s not all removed, retried next run", dossier.pk)
        return False
    digest = hashlib.sha256(dossier.external_id.encode()).hexdigest()
    with transaction.atomic():
        PieceJointe.objects.filter(dossier=dossier).delete()
        OutgoingAttachment.objects.filter(outgoing__dossier=dossier).delete()
        Evenement.objects.filter(dossier=dossier).update(message="", comment="", author="", raw={})
        OutgoingEvent.objects.filter(dossier=dossier).update(message="", author="", last_error="")
        Dossier.objects.filter(pk=dossier.pk).update(
            external_id=digest,
            folder_name=f"purge-{digest}",
            applicant_first_name="",
            applicant_last_name="",
            applicant_email="",
            partner_attributes="",
            raw={},
            purged_at=now,
        )
    return True
