"""A sync pass over a démarche's notifications: list, hand each case to the worker threads
(one case on one thread at a time), map each failure to its kind in the journal.

Order for every notification (API.md §8): read from HubEE, commit rows, write files (temp name,
fsync, rename), push our statuses, and only then delete the notification. Re-processing any
notification after a crash at any point is harmless: rows are keyed by HubEE ids, file paths
are reserved in the database before the download, and status pushes go through the outbox.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from demarches.hubee import ConfigurationError
from demarches.models import Demarche
from dossiers.enums import FailureKind, RunFailure, RunStatus
from dossiers.exchange import connection, lease
from dossiers.exchange.inbound.case_handler import CaseHandler
from dossiers.exchange.inbound.errors import (
    InvalidDataError,
    PendingAttachmentError,
    incomplete_payload,
)
from dossiers.exchange.inbound.files import FileFetcher
from dossiers.exchange.inbound.journal import (
    RunJournal,
    SyncContext,
    SyncOutcome,
    unparseable_text,
)
from dossiers.exchange.inbound.mapping import Mapper
from dossiers.exchange.inbound.workers import CaseWorkers, case_key
from dossiers.exchange.lease import LEASE_TTL
from dossiers.exchange.outbound.push import UnfinishedAttemptError
from dossiers.models import SyncRun
from dossiers.records import storage
from hubee_portal.hubee import (
    AuthenticationError,
    HubEEClient,
    HubEEError,
    InvalidPayloadError,
    NotFoundError,
    Notification,
    TransientError,
)

logger = logging.getLogger(__name__)

MAX_LIST_SIZE = 1000


def sync_demarche(
    demarche: Demarche,
    *,
    client: HubEEClient | None = None,
    concurrency: int | None = None,
    owner: str | None = None,
) -> SyncOutcome:
    """One pass over a démarche's notifications, under its lease (the sync only: the entry
    point of the portal's runs is dossiers.exchange.run)."""
    with lease.held(demarche.pk, LEASE_TTL, owner) as keeper:
        if keeper is None:
            logger.info("démarche %s: already being synced elsewhere, skipped", demarche.pk)
            return SyncOutcome(demarche, None, skipped=True)
        return run_sync(demarche, keeper, client=client, concurrency=concurrency)


def run_sync(
    demarche: Demarche,
    keeper: lease.KeepAlive,
    *,
    client: HubEEClient | None = None,
    concurrency: int | None = None,
) -> SyncOutcome:
    """One pass, the caller holding the démarche's lease (`keeper`)."""
    run = SyncRun.objects.create(demarche=demarche)
    try:
        client = client or connection.client_for(demarche)
    except ConfigurationError as exc:
        return _not_configured(demarche, run, exc)
    loop = ListingLoop(
        SyncContext.start(demarche, client, run, lease_lost=keeper.lost),
        concurrency=concurrency or settings.HUBEE_SYNC_CONCURRENCY,
    )
    return loop.run()


def _not_configured(demarche: Demarche, run: SyncRun, exc: ConfigurationError) -> SyncOutcome:
    """The démarche cannot call HubEE (URL refused, secret missing): nothing was sent, the run
    says why."""
    logger.error("démarche %s: %s", demarche.pk, exc.summary)
    run.finished_at = timezone.now()
    run.status = RunStatus.FAILED
    run.errors = 1
    run.failure_kind = RunFailure.HUBEE
    run.message = f"{RunFailure.HUBEE.label} : {exc.summary}"
    run.save()
    return SyncOutcome(demarche, run, connection_error=run.message, error=run.message)


class ListingLoop:
    """Lists a démarche's notifications until none is new, feeding the handler (directly, or
    through CaseWorkers when cases can overlap)."""

    def __init__(
        self,
        context: SyncContext,
        *,
        concurrency: int = 1,
    ) -> None:
        self.context = context
        self.journal = RunJournal(context)
        self.handler = CaseHandler(
            context, Mapper(context.demarche, context.root), FileFetcher(context), self.journal
        )
        self.concurrency = max(1, concurrency)
        self.seen: set[str] = set()
        self.fatal: str | None = None
        self.fatal_kind: str = RunFailure.NONE
        # Items of HubEE's lists without a usable id: the most met in one listing (the same
        # ones come back in each listing of the run).
        self.unparseable = 0

    def _stop(self, kind: RunFailure, detail: str) -> None:
        """Stop the run: no new notification is started. The message opens with the kind."""
        self.fatal = f"{kind.label} : {detail}"
        self.fatal_kind = kind

    @property
    def connection_failed(self) -> bool:
        return self.fatal_kind in (RunFailure.CREDENTIALS, RunFailure.HUBEE)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> SyncOutcome:
        outcome = SyncOutcome(self.context.demarche, self.context.run)
        try:
            storage.ensure_dir(self.context.root)
            removed = storage.remove_partial_files(self.context.root)
            if removed:
                logger.warning(
                    "démarche %s: %d partial files removed", self.context.demarche.pk, removed
                )
            self._loop()
            if self.unparseable and not self.fatal and not self._did_anything():
                # Nothing but unusable items: never a « Réussie » run that did nothing.
                self._stop(
                    RunFailure.INVALID,
                    f"rien n'a été relevé. {unparseable_text(self.unparseable)}.",
                )
        except AuthenticationError as exc:
            self._stop(RunFailure.CREDENTIALS, str(exc))
        except HubEEError as exc:
            self._stop(RunFailure.HUBEE, str(exc))
        except OSError as exc:
            self._stop(RunFailure.DISK, f"{self.context.root} : {exc.strerror or exc}")
        self.journal.finish(self.fatal, self.fatal_kind, unparseable=self.unparseable)
        outcome.error = self.fatal
        if self.connection_failed:
            outcome.connection_error = self.fatal
        outcome.pending_failures = self.journal.pending_failures()
        return outcome

    def _loop(self) -> None:
        with CaseWorkers(self.concurrency, self._process_one, stop=self._stopped) as workers:
            while not self.fatal:
                # List again while the workers still have work queued: no idle wait at the end
                # of each batch for its slowest dossier.
                workers.wait(most=2 * self.concurrency)
                if self.fatal:
                    return
                if self.context.lease_lost.is_set():
                    self._stop(RunFailure.LEASE, "son verrou a expiré pendant ce passage.")
                    return
                in_flight = workers.pending
                fresh, full = self._list_fresh(in_flight)
                if fresh:
                    self.seen.update(n.id for n in fresh)
                    self._dispatch(fresh, workers)
                elif full and in_flight:
                    # Notifications still in flight may hide newer ones: ask once they are done.
                    workers.wait(most=0)
                else:
                    return

    def _list_fresh(self, in_flight: int) -> tuple[list[Notification], bool]:
        """Notifications not seen in this run, and whether the listing came back full."""
        batch_size = self.context.demarche.connection.batch_size
        # Notifications in flight are still on HubEE (deleted once handled): they are listed too.
        max_result = min(batch_size + in_flight, MAX_LIST_SIZE)
        batch, received = self._list(max_result)
        fresh = [n for n in batch if n.id not in self.seen]
        blocked = len(self.journal.failed) + received - len(batch)
        if not fresh and received >= max_result and blocked:
            # Head-of-line blocking: failed or unusable items fill the batch, ask for more.
            max_result = min(batch_size + in_flight + blocked, MAX_LIST_SIZE)
            batch, received = self._list(max_result)
            fresh = [n for n in batch if n.id not in self.seen]
        return fresh, received >= max_result

    def _list(self, max_result: int) -> tuple[list[Notification], int]:
        """The usable notifications and how many items HubEE listed (unusable ones too)."""
        batch = self.context.client.list_notifications(max_result)
        skipped = getattr(batch, "skipped", 0)
        if skipped:
            logger.error(
                "démarche %s: %d notification(s) without a valid id in HubEE's list",
                self.context.demarche.pk,
                skipped,
            )
            self.unparseable = max(self.unparseable, skipped)
        return batch, len(batch) + skipped

    def _did_anything(self) -> bool:
        counters = self.context.counters
        return bool(counters.notifications_handled or counters.errors or self.seen)

    def _dispatch(self, notifications: list[Notification], workers: CaseWorkers) -> None:
        groups: dict[str, list[Notification]] = defaultdict(list)
        for notification in notifications:
            groups[case_key(notification)].append(notification)
        if workers.pending == 0 and (self.concurrency == 1 or len(groups) == 1):
            # Nothing in flight and nothing to overlap: no thread, no second database connection.
            for group in groups.values():
                self._process_group(group)
            return
        workers.submit(notifications)

    def _stopped(self) -> bool:
        return self.fatal is not None or self.context.lease_lost.is_set()

    def _process_group(self, group: list[Notification]) -> None:
        for notification in group:
            if self._stopped():
                return
            self._process_one(notification)

    def _process_one(self, notification: Notification) -> None:
        try:
            self.handler.handle(notification)
        except AuthenticationError as exc:
            self._stop(RunFailure.CREDENTIALS, str(exc))
            self.journal.record_failure(notification, FailureKind.PERMANENT, str(exc))
        except NotFoundError as exc:
            self.journal.record_failure(
                notification, FailureKind.NOT_FOUND, str(exc), not_found=True
            )
        except UnfinishedAttemptError as exc:
            self.journal.record_held_back(notification, str(exc))
        except TransientError as exc:
            self.journal.record_failure(notification, FailureKind.TRANSIENT, str(exc))
        except InvalidPayloadError as exc:
            self.journal.record_failure(
                notification, FailureKind.INVALID, incomplete_payload(exc.field)
            )
        except HubEEError as exc:
            self.journal.record_failure(notification, FailureKind.PERMANENT, str(exc))
        except PendingAttachmentError as exc:
            self.journal.record_failure(notification, FailureKind.TRANSIENT, str(exc))
        except (InvalidDataError, storage.UnsafePathError) as exc:
            self.journal.record_failure(notification, FailureKind.INVALID, str(exc))
        except OSError as exc:
            self.journal.record_failure(notification, FailureKind.LOCAL, self._disk_error(exc))
        except DatabaseError as exc:
            close_old_connections()
            self.journal.record_failure(notification, FailureKind.LOCAL, f"Erreur de base : {exc}")
        except Exception as exc:  # one bad notification never stops the others
            logger.exception("notification %s: unexpected error", notification.id)
            self.journal.record_failure(
                notification, FailureKind.LOCAL, f"{type(exc).__name__}: {exc}"
            )
        else:
            self.context.counters.add(notifications_handled=1)

    def _disk_error(self, exc: OSError) -> str:
        """The error without its path: below the démarche's folder a path names the dossier
        (its external id) and the citizen's file, which the journal never keeps."""
        where = ""
        if exc.filename:
            inside = Path(str(exc.filename)).is_relative_to(self.context.root)
            where = (
                f" (dans le dossier de la démarche {self.context.root})"
                if inside
                else " (hors du dossier de la démarche)"
            )
        return f"Erreur disque : {exc.strerror or type(exc).__name__}{where}"
