"""The démarches' last pass with HubEE (DemarchePoll), written by every pass, idle or not, and
read by health, incidents, « État du portail » and the dashboard; and which démarches are due
for a poll (adaptive polling: HUBEE_IDLE_AFTER_MINUTES, HUBEE_IDLE_POLL_MINUTES)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import RunFailure, RunStatus
from dossiers.models import DemarchePoll, SyncRun

# django-q2's scheduler looks every 30 s, so a one-minute schedule fires 30 to 90 s apart: a
# démarche polled 20 s ago is due again, or a late firing followed by a timely one would skip
# it for a minute. Two fan-outs within 20 s (schedulers overlapping) still poll it once.
SLACK = timedelta(seconds=40)


def _ensure(ids: Iterable[int]) -> None:
    DemarchePoll.objects.bulk_create(
        [DemarchePoll(demarche_id=pk, active_at=timezone.now()) for pk in ids],
        ignore_conflicts=True,
    )


def record_run(run: SyncRun) -> None:
    """A journaled run started or ended: the démarche's last pass is this one."""
    if run.status == RunStatus.SKIPPED:
        return
    _ensure([run.demarche_id])
    rows = DemarchePoll.objects.filter(demarche_id=run.demarche_id)
    if run.status == RunStatus.RUNNING:
        rows.update(status=RunStatus.RUNNING, run_requested_at=None)
        return
    at = run.finished_at or run.started_at
    rows = rows.exclude(last_run_id=run.pk)
    if run.status == RunStatus.FAILED:
        rows.update(
            polled_at=at,
            status=run.status,
            failure_kind=run.failure_kind,
            failures_in_row=F("failures_in_row") + 1,
            run_requested_at=None,
            planned_at=None,
            last_run_id=run.pk,
        )
        return
    values = {
        "polled_at": at,
        "succeeded_at": at,
        "status": run.status,
        "failure_kind": RunFailure.NONE,
        "failures_in_row": 0,
        "run_requested_at": None,
        "planned_at": None,
        "last_run_id": run.pk,
    }
    if run.notifications_handled:
        values["active_at"] = at
    rows.update(**values)


def record_idle(ids: Iterable[int], at: datetime) -> None:
    """Polls that found nothing: one statement for a whole batch."""
    DemarchePoll.objects.bulk_create(
        [
            DemarchePoll(
                demarche_id=pk,
                polled_at=at,
                succeeded_at=at,
                status=RunStatus.OK,
                active_at=at,  # kept for an existing row: only a new one starts active
            )
            for pk in ids
        ],
        update_conflicts=True,
        unique_fields=["demarche"],
        update_fields=[
            "polled_at",
            "succeeded_at",
            "status",
            "failure_kind",
            "failures_in_row",
            "paused_until",
            "planned_at",
        ],
    )


def record_requested(ids: Iterable[int], at: datetime, *, active: bool = True) -> None:
    """A full run was queued for these démarches (notifications found, pushes due)."""
    ids = list(ids)
    _ensure(ids)
    values: dict[str, object] = {"run_requested_at": at, "paused_until": None, "planned_at": None}
    if active:
        values["active_at"] = at
    DemarchePoll.objects.filter(demarche_id__in=ids).update(**values)


def clear_request(demarche_id: int) -> None:
    DemarchePoll.objects.filter(demarche_id=demarche_id).update(run_requested_at=None)


def mark_active(demarche_id: int) -> None:
    """A person asked for this démarche (« Synchroniser maintenant », an agent's action): it is
    polled every minute again."""
    _ensure([demarche_id])
    DemarchePoll.objects.filter(demarche_id=demarche_id).update(active_at=timezone.now())


def pause(ids: Iterable[int], until: datetime) -> None:
    """HubEE answered 429: these démarches wait until `until` (Retry-After)."""
    ids = list(ids)
    _ensure(ids)
    DemarchePoll.objects.filter(demarche_id__in=ids).update(paused_until=until, planned_at=None)


def record_planned(ids: list[int], at: datetime) -> None:
    """These démarches are in a poll batch queued now; their poll clears it. An upsert, as
    record_idle: every minute, the rows all exist but for new démarches."""
    DemarchePoll.objects.bulk_create(
        [DemarchePoll(demarche_id=pk, planned_at=at, active_at=at) for pk in ids],
        update_conflicts=True,
        unique_fields=["demarche"],
        update_fields=["planned_at"],  # an existing row keeps its activity
    )


def due(
    demarches: QuerySet[Demarche],
    now: datetime | None = None,
    *,
    planned_wait: timedelta = timedelta(minutes=1),
) -> QuerySet[Demarche]:
    """The démarches due for a poll now: never polled, or polled a minute ago (an active one),
    or HUBEE_IDLE_POLL_MINUTES ago (one without notification for HUBEE_IDLE_AFTER_MINUTES);
    not paused by a 429, nor in a poll batch queued less than `planned_wait` ago."""
    now = now or timezone.now()
    never = Q(poll__isnull=True) | Q(poll__polled_at__isnull=True)
    every_minute = Q(poll__polled_at__lte=now - timedelta(minutes=1) + SLACK)
    idle_after = settings.HUBEE_IDLE_AFTER_MINUTES
    if idle_after > 0:
        active = Q(poll__active_at__isnull=True) | Q(
            poll__active_at__gt=now - timedelta(minutes=idle_after)
        )
        slow = Q(
            poll__polled_at__lte=now - timedelta(minutes=settings.HUBEE_IDLE_POLL_MINUTES) + SLACK
        )
        timely = never | (active & every_minute) | slow
    else:
        timely = never | every_minute
    not_paused = Q(poll__paused_until__isnull=True) | Q(poll__paused_until__lte=now)
    not_planned = Q(poll__planned_at__isnull=True) | Q(poll__planned_at__lte=now - planned_wait)
    return demarches.filter(timely & not_paused & not_planned)


def run_pending(now: datetime, stale: timedelta) -> set[int]:
    """The démarches with a full run queued less than `stale` ago (not queued again)."""
    return set(
        DemarchePoll.objects.filter(run_requested_at__gt=now - stale).values_list(
            "demarche_id", flat=True
        )
    )
