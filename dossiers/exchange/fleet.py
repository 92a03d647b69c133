"""Polling many démarches each minute (issue 22: 2,500 démarches on two cores).

Most démarches, most minutes, have nothing new: for them a poll is one listing call, made by a
batch task through a thread pool, with no lease, no SyncRun row and no task of its own; their
last pass is written for the whole batch in one statement (dossiers.records.polls). A démarche
whose listing shows notifications, or that failed, or whose pushes are due, gets a full run
(dossiers.exchange.run) under its lease, journaled as before. A 429 pauses the démarche's
connection for its Retry-After: the other démarches of that HubEE wait too, in this batch and,
through DemarchePoll.paused_until, in the next minutes' batches of every machine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from demarches.hubee import ConfigurationError
from demarches.models import Demarche
from dossiers.exchange import connection, lease
from dossiers.exchange.outbound import delivery
from dossiers.exchange.run import enabled
from dossiers.models import DemarcheLease
from dossiers.records import polls
from hubee_portal.hubee import HubEEClient, HubEEError, Reason, TransientError

logger = logging.getLogger(__name__)

# A full run queued and not started: a worker of a machine that died had taken it, or it
# waits behind others. With the broker's queue (nearly) empty nothing waits, so after
# RUN_REQUEST_LOST it was lost and is queued again; with a queue (a backlog after an outage),
# only after RUN_REQUEST_STALE, lest every minute add a copy of every waiting run. A duplicate is
# harmless (the lease), a long wait is not.
RUN_REQUEST_LOST = timedelta(seconds=60)
RUN_REQUEST_STALE = timedelta(minutes=15)
QUIET_QUEUE = 10  # tasks: the minute's own schedules may be queued at the same time
# A 429 without a usable Retry-After: the connection waits this long (s).
DEFAULT_PAUSE = 60.0


@dataclass
class Plan:
    polls: list[list[int]] = field(default_factory=list)  # batches of démarches to list
    runs: list[int] = field(default_factory=list)  # démarches with pushes due: a full run

    @property
    def demarches(self) -> int:
        return sum(len(batch) for batch in self.polls) + len(self.runs)


def plan(now: datetime | None = None, *, queued: int = 0) -> Plan:
    """What this minute needs: the due démarches in batches, and the full runs for pushes. A
    démarche being synced (its lease held) or with a full run queued is left alone. `queued`:
    the tasks waiting in the broker."""
    now = now or timezone.now()
    waited = RUN_REQUEST_LOST if queued <= QUIET_QUEUE else RUN_REQUEST_STALE
    # A lease whose process died on this machine is taken over by the next run: not busy.
    busy = {
        demarche_id
        for demarche_id, owner in DemarcheLease.objects.filter(expires_at__gt=now)
        .exclude(owner="")
        .values_list("demarche_id", "owner")
        if not lease.owner_is_dead(owner)
    } | polls.run_pending(now, waited)
    pushes = set(
        delivery.due_pushes(now)
        .filter(dossier__demarche__enabled=True)
        .values_list("dossier__demarche_id", flat=True)
        .distinct()
    )
    due = polls.due(enabled(), now, planned_wait=waited).order_by("pk").values_list("pk", flat=True)
    # A full run lists too: a démarche with pushes due is not listed twice.
    ids = [pk for pk in due if pk not in busy and pk not in pushes]
    polls.record_planned(ids, now)
    size = max(1, settings.HUBEE_POLL_BATCH_SIZE)
    return Plan(
        polls=[ids[i : i + size] for i in range(0, len(ids), size)],
        runs=sorted(pushes - busy),
    )


@dataclass
class PollOutcome:
    idle: list[int] = field(default_factory=list)  # nothing new
    found: list[int] = field(default_factory=list)  # notifications: a full run
    failed: list[int] = field(default_factory=list)  # an error: a full run journals it
    paused: list[int] = field(default_factory=list)  # 429: waits for the Retry-After
    disabled: int = 0  # disabled (or deleted) since the plan: not contacted

    def as_task_result(self) -> dict[str, int]:
        return {
            "idle": len(self.idle),
            "found": len(self.found),
            "failed": len(self.failed),
            "paused": len(self.paused),
            "disabled": self.disabled,
        }


class _Pauses:
    """The connections HubEE throttled in this batch, until when (monotonic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[int, float] = {}

    def active(self, connection_id: int) -> bool:
        with self._lock:
            return self._until.get(connection_id, 0.0) > time.monotonic()

    def add(self, connection_id: int, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            self._until[connection_id] = max(self._until.get(connection_id, 0.0), until)

    def longest(self) -> float:
        with self._lock:
            return max((until - time.monotonic() for until in self._until.values()), default=0)


def poll(ids: list[int], *, threads: int | None = None) -> PollOutcome:
    """List each démarche's notifications once; record the idle ones; say which need a run.
    The démarches are read again: one disabled meanwhile is not contacted."""
    now = timezone.now()
    outcome = PollOutcome()
    demarches = list(enabled().filter(pk__in=ids).order_by("pk"))
    outcome.disabled = len(set(ids)) - len(demarches)
    work: list[tuple[Demarche, HubEEClient]] = []
    for demarche in demarches:
        try:
            work.append((demarche, connection.client_for(demarche)))
        except ConfigurationError:
            outcome.failed.append(demarche.pk)  # the full run journals why
    pauses = _Pauses()
    threads = settings.HUBEE_POLL_THREADS if threads is None else threads
    for demarche, verdict in _list_all(work, pauses, threads):
        getattr(outcome, verdict).append(demarche.pk)
    polls.record_idle(outcome.idle, now)
    if outcome.paused:
        wait = max(pauses.longest(), 1.0)
        polls.pause(outcome.paused, timezone.now() + timedelta(seconds=wait))
        logger.warning(
            "HubEE limits the rate (429): %d démarche(s) paused for %d s",
            len(outcome.paused),
            wait,
        )
    return outcome


def _list_all(
    work: list[tuple[Demarche, HubEEClient]], pauses: _Pauses, threads: int
) -> Iterator[tuple[Demarche, str]]:
    if threads <= 1 or len(work) <= 1:
        for demarche, client in work:
            yield demarche, _list_one(demarche, client, pauses)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hubee-poll") as pool:
        verdicts = pool.map(
            _list_in_thread, [d for d, _ in work], [c for _, c in work], [pauses] * len(work)
        )
        yield from zip((demarche for demarche, _ in work), verdicts, strict=True)


def _list_in_thread(demarche: Demarche, client: HubEEClient, pauses: _Pauses) -> str:
    try:
        return _list_one(demarche, client, pauses)
    finally:
        # The token store may have opened this thread's own database connection.
        db_connection.close()


def _list_one(demarche: Demarche, client: HubEEClient, pauses: _Pauses) -> str:
    """One listing call: "idle", "found", "failed" or "paused"."""
    if pauses.active(demarche.connection_id):
        return "paused"
    try:
        notifications = client.list_notifications(1, retries=0)
    except TransientError as exc:
        if exc.reason == Reason.THROTTLED:
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_PAUSE
            pauses.add(demarche.connection_id, wait)
            return "paused"
        return "failed"
    except HubEEError:
        return "failed"
    except Exception:  # one démarche never stops the batch; its full run journals the cause
        logger.exception("démarche %s: poll failed", demarche.pk)
        return "failed"
    return "found" if len(notifications) or notifications.skipped else "idle"
