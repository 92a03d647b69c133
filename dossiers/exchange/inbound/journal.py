"""What a sync run records: its counters, the shared context of its units, the journal of
failed notifications (NotificationFailure) and the SyncRun row at the end."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import DatabaseError
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import FailureKind, OutgoingState, RunFailure, RunStatus
from dossiers.models import NotificationFailure, OutgoingEvent, SyncRun
from dossiers.records.periods import minute_after
from hubee_portal.hubee import HubEEClient, HubEEError, NotFoundError, Notification, is_uuid

logger = logging.getLogger(__name__)


@dataclass
class RunCounters:
    notifications_handled: int = 0
    dossiers_created: int = 0
    files_downloaded: int = 0
    bytes_downloaded: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **values: int) -> None:
        with self.lock:
            for name, value in values.items():
                setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class SyncContext:
    """What the units of one run share. Read-only but for the counters (behind their lock): the
    units run on worker threads and keep no per-case state."""

    demarche: Demarche
    client: HubEEClient
    run: SyncRun
    root: Path
    counters: RunCounters = field(default_factory=RunCounters)
    # Set by the lease's keep-alive thread: another run took the démarche over.
    lease_lost: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(
        cls,
        demarche: Demarche,
        client: HubEEClient,
        run: SyncRun,
        lease_lost: threading.Event | None = None,
    ) -> SyncContext:
        return cls(
            demarche,
            client,
            run,
            Path(demarche.download_folder),
            lease_lost=lease_lost or threading.Event(),
        )


@dataclass
class SyncOutcome:
    demarche: Demarche
    run: SyncRun | None
    pending_failures: int = 0
    # HubEE refused or could not be reached: nothing was synced.
    connection_error: str | None = None
    # Any error that stopped the run (connection, unusable download folder…).
    error: str | None = None
    skipped: bool = False


class RunJournal:
    """Failed notifications (kept on HubEE, retried by the next runs) and the run's row."""

    def __init__(self, context: SyncContext) -> None:
        self.context = context
        self.failed: set[str] = set()  # notifications failed in this run
        self.calls_at_start = context.client.stats.calls

    def record_failure(
        self,
        notification: Notification,
        kind: str,
        error: str,
        *,
        not_found: bool = False,
        waiting: str = "",
    ) -> None:
        """`waiting`: what the notification waits for, added to the log line."""
        demarche = self.context.demarche
        self.failed.add(notification.id)
        self.context.counters.add(errors=1)
        logger.warning(
            "démarche %s notification %s: %s%s",
            demarche.pk,
            notification.id,
            kind,
            f", {waiting}" if waiting else "",
        )
        now = timezone.now()
        try:
            failure, _ = NotificationFailure.objects.get_or_create(
                demarche=demarche,
                notification_id=notification.id,
                defaults={
                    "case_id": notification.case_id if is_uuid(notification.case_id) else None,
                    "event_id": notification.event_id if is_uuid(notification.event_id) else None,
                    "kind": kind,
                    "error": error,
                },
            )
            failure.kind = kind
            failure.error = error[:5000]
            failure.attempts += 1
            failure.last_attempt_at = now
            failure.last_run = self.context.run
            failure.resolved_at = None
            if not_found:
                failure.not_found_runs += 1
                if failure.not_found_runs >= demarche.connection.not_found_attempts:
                    self.give_up(notification, failure)
            failure.save()
        except DatabaseError:
            logger.exception("notification %s: failure could not be journaled", notification.id)

    def record_held_back(self, notification: Notification, error: str) -> None:
        """A status push of the case was cut during its POST and may still land on HubEE until
        the HTTP timeouts have passed: the notification waits (TRANSIENT), saying until when."""
        until = self.unanswered_until(notification.case_id)
        if until is None:  # answered meanwhile: the next run sends it
            self.record_failure(notification, FailureKind.TRANSIENT, error)
            return
        waiting = f"en attente de la fin du délai d'un envoi coupé, jusqu'à {minute_after(until)}"
        self.record_failure(
            notification,
            FailureKind.TRANSIENT,
            f"{error} {waiting[0].upper()}{waiting[1:]}.",
            waiting=waiting,
        )

    def unanswered_until(self, case_id: str | None) -> datetime | None:
        """The latest end of the HTTP timeouts of a cut POST among the case's pending pushes."""
        if not case_id:
            return None
        pushes = OutgoingEvent.objects.filter(
            dossier__demarche=self.context.demarche,
            dossier__hubee_case_id=case_id,
            state=OutgoingState.PENDING,
            post_unanswered_since__isnull=False,
        )
        ends = [until for push in pushes if (until := push.unanswered_until()) is not None]
        return max(ends, default=None)

    def give_up(self, notification: Notification, failure: NotificationFailure) -> None:
        """HubEE keeps answering 404 (purged case): delete the notification, keep the trace."""
        try:
            self.context.client.delete_notification(notification.id)
        except NotFoundError:
            pass
        except HubEEError as exc:
            failure.error += f"\nSuppression impossible : {exc}"
            return
        failure.given_up = True
        failure.given_up_at = timezone.now()

    def resolve(self, notification: Notification) -> None:
        """The notification was handled: its journal entry, if any, is closed."""
        NotificationFailure.objects.filter(
            demarche=self.context.demarche,
            notification_id=notification.id,
            resolved_at__isnull=True,
        ).update(resolved_at=timezone.now())

    def pending_failures(self) -> int:
        return NotificationFailure.objects.filter(
            demarche=self.context.demarche, given_up=False, resolved_at__isnull=True
        ).count()

    def finish(self, fatal: str | None, fatal_kind: str, *, unparseable: int = 0) -> None:
        """Write the run's row: counters, API calls, and its status (`fatal`: what stopped it;
        `unparseable`: items of HubEE's lists without a usable id, each one an error)."""
        counters = self.context.counters
        run = self.context.run
        run.finished_at = timezone.now()
        run.notifications_handled = counters.notifications_handled
        run.dossiers_created = counters.dossiers_created
        run.files_downloaded = counters.files_downloaded
        run.bytes_downloaded = counters.bytes_downloaded
        stopped = 1 if fatal and fatal_kind != RunFailure.INVALID else 0
        run.errors = counters.errors + unparseable + stopped
        run.api_calls = self.context.client.stats.calls - self.calls_at_start
        unusable = f" {unparseable_text(unparseable)}." if unparseable else ""
        if fatal:
            run.status = RunStatus.FAILED
            run.message = fatal if fatal_kind == RunFailure.INVALID else fatal + unusable
            run.failure_kind = fatal_kind
        elif counters.errors or unparseable:
            run.status = RunStatus.PARTIAL
            failed = (
                f"{counters.errors} notification(s) en échec, conservées sur HubEE."
                if counters.errors
                else ""
            )
            run.message = (failed + unusable).strip()
        else:
            run.status = RunStatus.OK
        run.save()


def unparseable_text(count: int) -> str:
    """What the run's message says of HubEE's unusable items (no id: nothing to journal)."""
    return (
        f"{count} notification(s) illisible(s) (sans identifiant valide) dans la liste de "
        "HubEE, ignorée(s) : signalez-le à l'assistance de HubEE"
    )
