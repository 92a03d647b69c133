"""The audit trail: every consultation, download and action of an agent, kept at least
36 months (settings.AUDIT_RETENTION_MONTHS). Rows hold ids and codes, never names, e-mails or
file names, and nothing here is logged."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, Dossier, PieceJointe
from dossiers.records.periods import months_before


def piece_ref(piece: PieceJointe) -> str:
    """How an entry names a piece: an id, never its file name."""
    return f"pièce jointe {piece.pk}"


def record(
    user,
    action: AuditAction,
    *,
    dossier: Dossier | None = None,
    piece: PieceJointe | None = None,
    object_ref: str = "",
    detail: str = "",
) -> AuditEntry:
    if piece is not None and not object_ref:
        object_ref = piece_ref(piece)
    return AuditEntry.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        username=getattr(user, "username", "") or "",
        action=action,
        dossier=dossier,
        dossier_ref=dossier.external_id[:64] if dossier is not None else "",
        object_ref=object_ref[:100],
        detail=detail[:255],
    )


def record_unless_recent(
    user,
    action: AuditAction,
    *,
    within: timedelta,
    piece: PieceJointe | None = None,
    dossier: Dossier | None = None,
) -> AuditEntry | None:
    """Record `action` on `piece` (or on `dossier`) unless this user already has one for it
    within `within` (the images of a preview page, a dossier page following its sends)."""
    if piece is not None:
        dossier = piece.dossier
    recent = AuditEntry.objects.filter(
        user_id=getattr(user, "pk", None),
        action=action,
        dossier=dossier,
        object_ref=piece_ref(piece) if piece is not None else "",
        at__gte=timezone.now() - within,
    )
    if recent.exists():
        return None
    return record(user, action, dossier=dossier, piece=piece)


def retention_limit(now: datetime | None = None) -> datetime:
    """The date before which entries may be deleted."""
    return months_before(now or timezone.now(), settings.AUDIT_RETENTION_MONTHS)


def purge_expired(now: datetime | None = None) -> int:
    """Delete entries older than the retention period; returns how many."""
    deleted, _ = AuditEntry.objects.filter(at__lt=retention_limit(now)).delete()
    return deleted


def purge_login_logs(now: datetime | None = None) -> int:
    """Delete the connection logs (django-axes: account, address, browser, dates) older than
    settings.LOGIN_LOG_RETENTION_MONTHS; returns how many rows."""
    from axes.models import AccessFailureLog, AccessLog

    limit = months_before(now or timezone.now(), settings.LOGIN_LOG_RETENTION_MONTHS)
    logins, _ = AccessLog.objects.filter(attempt_time__lt=limit).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=limit).delete()
    return logins + failures
