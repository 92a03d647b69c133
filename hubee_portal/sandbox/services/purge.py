"""HubEE's purge (API.md §9.4): one case at once, or the daily batch of the retention rules
on an adjustable clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import storage, workflow
from ..enums import AttachmentStatus, CaseStatus
from ..models import Attachment, Case, StatusChange, Subscription
from .errors import SandboxError

RETENTION_FIELDS = (
    "status_before_file_deletion",
    "time_before_file_deletion",
    "time_before_archiving",
    "time_before_folder_deletion",
)


def purge_case(case: Case) -> None:
    """HubEE's purge: the case answers 404 everywhere and its binaries are deleted."""
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(purged=True)
        deleted = _mark_deleted(_all_attachments(case))
    _remove_binaries(deleted)
    case.purged = True


def _all_attachments(case: Case) -> Any:
    return Attachment.objects.filter(case_id=case.pk) | Attachment.objects.filter(
        event__case_id=case.pk
    )


def _mark_deleted(attachments: Any) -> list[uuid.UUID]:
    """Mark the attachments DELETED (call in a transaction); their ids."""
    ids = list(attachments.exclude(status=AttachmentStatus.DELETED).values_list("id", flat=True))
    Attachment.objects.filter(id__in=ids).update(status=AttachmentStatus.DELETED)
    return ids


def _remove_binaries(ids: Iterable[uuid.UUID]) -> None:
    # After the transaction: a rollback must not leave a RECEIVED file without its content.
    for attachment_id in ids:
        storage.delete(attachment_id)


# "Reaching" statusBeforeFileDeletion includes going past it: HubEE accepts forward skips
# (API.md §6.2), and a case taken straight to IN_PROGRESS has left SI_RECEIVED behind (GUESS).
PURGE_ORDER: dict[str, int] = {
    **workflow.STATUS_ORDER,
    CaseStatus.CLOSED: 8,
    CaseStatus.ARCHIVED: 9,
}


@dataclass(frozen=True)
class PurgeResult:
    now: datetime
    files_deleted: int = 0
    cases_archived: int = 0
    cases_deleted: int = 0

    def summary(self) -> str:
        return (
            f"Purge de HubEE passée comme le {timezone.localtime(self.now):%d/%m/%Y à %H:%M} : "
            f"{self.files_deleted} fichier(s) supprimé(s), {self.cases_archived} télédossier(s) "
            f"archivé(s), {self.cases_deleted} télédossier(s) supprimé(s)."
        )


def set_retention(subscription: Subscription, **values: Any) -> Subscription:
    """Change a démarche's retention settings (RETENTION_FIELDS)."""
    unknown = set(values) - set(RETENTION_FIELDS)
    if unknown:
        raise SandboxError(f"Réglages de conservation inconnus : {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.full_clean()
    subscription.save(update_fields=[*values, "updated_at"])
    return subscription


def status_reached_at(case: Case, status: str) -> datetime | None:
    """When the case first reached `status` or a later one in HubEE's order; None if never."""
    rank = PURGE_ORDER.get(status)
    changes = [(c.status, c.at) for c in case.status_changes.all()]
    if not changes:
        # A case older than the status history: its last change is all we know.
        changes = [(case.status, case.update_date_time or case.create_date_time)]
    reached = [
        at
        for changed_to, at in changes
        if changed_to == status or (rank is not None and PURGE_ORDER.get(changed_to, -1) >= rank)
    ]
    return min(reached, default=None)


def run_purge(now: datetime | None = None) -> PurgeResult:
    """HubEE's daily purge batch, as if it ran at `now` (default: now; later moves the clock).

    Per case, in this order: its deposited files become DELETED (binary removed, download 404)
    once now > the date it reached statusBeforeFileDeletion + timeBeforeFileDeletion + 1 day; a
    CLOSED case becomes ARCHIVED, all its files deleted, timeBeforeArchiving days after its
    closure; an ARCHIVED case is deleted (404 everywhere, its notifications stay listed)
    timeBeforeFolderDeletion days after its archiving. Each step is dated when the daily batch
    would have done it, so one run "40 days later" does what 40 daily runs would have done.
    """
    now = now or timezone.now()
    files_deleted = cases_archived = cases_deleted = 0
    cases = (
        Case.objects.filter(purged=False)
        .select_related("subscription")
        .prefetch_related("status_changes")
        .order_by("create_date_time", "id")
    )
    for case in cases.iterator(chunk_size=200):
        rules = case.subscription
        deleted: list[uuid.UUID] = []
        with transaction.atomic():
            # Files shared by several cases are not modelled: one case per attachment here.
            reached = (
                status_reached_at(case, rules.status_before_file_deletion)
                if rules.status_before_file_deletion
                else None
            )
            if reached is not None and now > reached + timedelta(
                days=rules.time_before_file_deletion + 1
            ):
                deleted += _mark_deleted(Attachment.objects.filter(case_id=case.pk))
            if _archive(case, now):
                cases_archived += 1
                deleted += _mark_deleted(_all_attachments(case))
        _remove_binaries(deleted)
        files_deleted += len(deleted)
        if _deletion_due(case, now):
            purge_case(case)
            cases_deleted += 1
    return PurgeResult(now, files_deleted, cases_archived, cases_deleted)


def _deletion_due(case: Case, now: datetime) -> bool:
    if case.status != CaseStatus.ARCHIVED or case.archive_date_time is None:
        return False
    delay = timedelta(days=case.subscription.time_before_folder_deletion)
    return now >= case.archive_date_time + delay


def _archive(case: Case, now: datetime) -> bool:
    """A case CLOSED for timeBeforeArchiving days becomes ARCHIVED, dated when it was due."""
    if case.status != CaseStatus.CLOSED or case.close_date_time is None:
        return False
    archived_at = case.close_date_time + timedelta(days=case.subscription.time_before_archiving)
    if now < archived_at:
        return False
    # Conditional: the operator may have reopened the case since it was read.
    changed = Case.objects.filter(pk=case.pk, status=CaseStatus.CLOSED, purged=False).update(
        status=CaseStatus.ARCHIVED, archive_date_time=archived_at, update_date_time=archived_at
    )
    if not changed:
        return False
    StatusChange.objects.create(case=case, status=CaseStatus.ARCHIVED, at=archived_at)
    case.status = CaseStatus.ARCHIVED
    case.archive_date_time = case.update_date_time = archived_at
    return True
