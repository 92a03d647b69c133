"""The sync service: HubEE notifications in, Dossier rows and files out.

Order for every notification (API.md §8): read from HubEE, commit rows, write files (temp name,
fsync, rename), push our statuses, and only then delete the notification. Re-processing any
notification after a crash at any point is harmless: rows are keyed by HubEE ids, file paths
are reserved in the database before the download, and status pushes go through the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone

from demarches.enums import CaseStatus
from demarches.hubee import ConfigurationError, client_for
from demarches.models import Demarche
from dossiers.enums import (
    ActionType,
    AttachmentState,
    Direction,
    EventStatus,
    FailureKind,
    RunFailure,
    RunStatus,
)
from dossiers.exchange import lease
from dossiers.exchange.lease import LEASE_TTL
from dossiers.exchange.outbound.delivery import send_pending
from dossiers.exchange.outbound.queue import queue_automatic_statuses
from dossiers.models import Dossier, Evenement, NotificationFailure, PieceJointe, SyncRun
from dossiers.records import storage
from hubee_portal.hubee import (
    AuthenticationError,
    DownloadResult,
    HubEEClient,
    HubEEError,
    NotFoundError,
    Notification,
    TransientError,
    is_uuid,
    parse_hubee_datetime,
)
from hubee_portal.hubee.vocabulary import UNAVAILABLE_FILE, AttachmentStatus

logger = logging.getLogger(__name__)

MAX_LIST_SIZE = 1000


class InvalidDataError(Exception):
    """HubEE sent something we cannot store (missing id, wrong case…)."""


# HubEE ids are unique across the portal: a connection answering another démarche's ids
# (misconfigured, or pointed at another server) never reaches that démarche's rows.
CHECK_CONNECTION = (
    " Vérifiez l'adresse de la connexion HubEE de cette démarche et ses identifiants : "
    "ils doivent être ceux de son propre abonnement."
)
FOREIGN_CASE = (
    "Ce cas HubEE appartient déjà à une autre démarche du portail : il n'a pas été modifié."
    + CHECK_CONNECTION
)
FOREIGN_EVENT = (
    "Cet événement HubEE appartient déjà à une autre démarche du portail : "
    "il n'a pas été modifié." + CHECK_CONNECTION
)
OTHER_DOSSIER_EVENT = (
    "Cet événement HubEE est déjà enregistré sur un autre dossier de cette démarche : il n'a "
    "pas été déplacé. Signalez-le à l'assistance de HubEE avec l'identifiant de l'événement."
)


class PendingAttachmentError(Exception):
    """A file is still PENDING on HubEE: keep the notification and try again later."""


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
        client = client or client_for(demarche)
    except ConfigurationError as exc:
        return _not_configured(demarche, run, exc)
    syncer = DemarcheSync(
        demarche,
        client,
        run,
        lease_lost=keeper.lost,
        concurrency=concurrency or settings.HUBEE_SYNC_CONCURRENCY,
    )
    return syncer.run()


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


def case_key(notification: Notification) -> str:
    return (notification.case_id or notification.id).lower()


class CaseWorkers:
    """Threads fed notifications across listings, case by case.

    A case's notifications run in the order submitted, on one thread at a time; different cases
    run concurrently. Threads start at the first submit; leaving the block waits for the queued
    work (or, on an exception, only for the notifications already started).
    """

    def __init__(
        self, size: int, process: Callable[[Notification], None], *, stop: Callable[[], bool]
    ) -> None:
        self.size = size
        self._process = process
        self._stop = stop
        self._condition = threading.Condition()
        self._queues: dict[str, deque[Notification]] = {}  # cases queued or running
        self._ready: deque[str] = deque()  # cases waiting for a thread
        self._pending = 0  # notifications submitted and not finished
        self._closing = False
        self._cancelled = False
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> CaseWorkers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        with self._condition:
            self._closing = True
            self._cancelled = exc_type is not None
            self._condition.notify_all()
        for thread in self._threads:
            thread.join()
        if exc_type is None and self._error is not None:
            raise self._error

    @property
    def pending(self) -> int:
        with self._condition:
            return self._pending

    def submit(self, notifications: Iterable[Notification]) -> None:
        with self._condition:
            for notification in notifications:
                self._pending += 1
                key = case_key(notification)
                queue = self._queues.get(key)
                if queue is None:
                    self._queues[key] = deque([notification])
                    self._ready.append(key)
                else:  # queued or running: its thread takes it after the earlier ones
                    queue.append(notification)
            self._condition.notify_all()
        while len(self._threads) < self.size:
            thread = threading.Thread(
                target=self._work, name=f"hubee-sync-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def wait(self, *, most: int) -> None:
        """Until at most `most` notifications are queued or running."""
        with self._condition:
            while self._pending > most and self._error is None:
                self._condition.wait()
            if self._error is not None:
                raise self._error

    def _work(self) -> None:
        # One database connection per thread for the whole run (a new PostgreSQL connection
        # per case cost a connect each); closed when the thread ends.
        try:
            while True:
                with self._condition:
                    while not self._ready and not self._closing:
                        self._condition.wait()
                    if not self._ready:
                        return
                    key = self._ready.popleft()
                try:
                    self._run_case(key)
                finally:
                    if connection.errors_occurred:  # never carry a broken one to the next case
                        connection.close()
        finally:
            connection.close()

    def _run_case(self, key: str) -> None:
        while True:
            with self._condition:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                notification = queue.popleft()
                skip = self._cancelled or self._error is not None
            try:
                if not skip and not self._stop():
                    self._process(notification)
            except BaseException as exc:  # a bug: stop feeding, report it to the loop
                with self._condition:
                    self._error = self._error or exc
            finally:
                with self._condition:
                    self._pending -= 1
                    self._condition.notify_all()


class DemarcheSync:
    def __init__(
        self,
        demarche: Demarche,
        client: HubEEClient,
        run: SyncRun,
        *,
        lease_lost: threading.Event | None = None,
        concurrency: int = 1,
    ) -> None:
        self.demarche = demarche
        self.client = client
        self.run_row = run
        # Set by the lease's keep-alive thread: another run took the démarche over.
        self.lease_lost = lease_lost or threading.Event()
        self.concurrency = max(1, concurrency)
        self.root = Path(demarche.download_folder)
        self.counters = RunCounters()
        self.failed: set[str] = set()
        self.seen: set[str] = set()
        self.calls_at_start = client.stats.calls
        self.fatal: str | None = None
        self.fatal_kind: str = RunFailure.NONE

    def _stop(self, kind: RunFailure, detail: str) -> None:
        """Stop the run: no new notification is started. The message opens with the kind."""
        self.fatal = f"{kind.label} : {detail}"
        self.fatal_kind = kind

    @property
    def connection_failed(self) -> bool:
        return self.fatal_kind in (RunFailure.CREDENTIALS, RunFailure.HUBEE)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> SyncOutcome:
        outcome = SyncOutcome(self.demarche, self.run_row)
        try:
            storage.ensure_dir(self.root)
            removed = storage.remove_partial_files(self.root)
            if removed:
                logger.warning("démarche %s: %d partial files removed", self.demarche.pk, removed)
            self._loop()
        except AuthenticationError as exc:
            self._stop(RunFailure.CREDENTIALS, str(exc))
        except HubEEError as exc:
            self._stop(RunFailure.HUBEE, str(exc))
        except OSError as exc:
            self._stop(RunFailure.DISK, f"{self.root} : {exc.strerror or exc}")
        self._finish()
        outcome.error = self.fatal
        if self.connection_failed:
            outcome.connection_error = self.fatal
        outcome.pending_failures = NotificationFailure.objects.filter(
            demarche=self.demarche, given_up=False, resolved_at__isnull=True
        ).count()
        return outcome

    def _loop(self) -> None:
        with CaseWorkers(self.concurrency, self._process_one, stop=self._stopped) as workers:
            while not self.fatal:
                # List again while the workers still have work queued: no idle wait at the end
                # of each batch for its slowest dossier.
                workers.wait(most=2 * self.concurrency)
                if self.fatal:
                    return
                if self.lease_lost.is_set():
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
        batch_size = self.demarche.connection.batch_size
        # Notifications in flight are still on HubEE (deleted once handled): they are listed too.
        max_result = min(batch_size + in_flight, MAX_LIST_SIZE)
        batch = self.client.list_notifications(max_result)
        fresh = [n for n in batch if n.id not in self.seen]
        if not fresh and len(batch) >= max_result and self.failed:
            # Head-of-line blocking: the failed ones fill the batch, ask for more.
            max_result = min(batch_size + in_flight + len(self.failed), MAX_LIST_SIZE)
            batch = self.client.list_notifications(max_result)
            fresh = [n for n in batch if n.id not in self.seen]
        return fresh, len(batch) >= max_result

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
        return self.fatal is not None or self.lease_lost.is_set()

    def _process_group(self, group: list[Notification]) -> None:
        for notification in group:
            if self._stopped():
                return
            self._process_one(notification)

    def _process_one(self, notification: Notification) -> None:
        try:
            self.handle(notification)
        except AuthenticationError as exc:
            self._stop(RunFailure.CREDENTIALS, str(exc))
            self._record_failure(notification, FailureKind.PERMANENT, str(exc))
        except NotFoundError as exc:
            self._record_failure(notification, FailureKind.NOT_FOUND, str(exc), not_found=True)
        except TransientError as exc:
            self._record_failure(notification, FailureKind.TRANSIENT, str(exc))
        except HubEEError as exc:
            self._record_failure(notification, FailureKind.PERMANENT, str(exc))
        except PendingAttachmentError as exc:
            self._record_failure(notification, FailureKind.TRANSIENT, str(exc))
        except (InvalidDataError, storage.UnsafePathError) as exc:
            self._record_failure(notification, FailureKind.INVALID, str(exc))
        except OSError as exc:
            self._record_failure(notification, FailureKind.LOCAL, self._disk_error(exc))
        except DatabaseError as exc:
            close_old_connections()
            self._record_failure(notification, FailureKind.LOCAL, f"Erreur de base : {exc}")
        except Exception as exc:  # one bad notification never stops the others
            logger.exception("notification %s: unexpected error", notification.id)
            self._record_failure(notification, FailureKind.LOCAL, f"{type(exc).__name__}: {exc}")
        else:
            self.counters.add(notifications_handled=1)

    def _disk_error(self, exc: OSError) -> str:
        """The error without its path: below the démarche's folder a path names the dossier
        (its external id) and the citizen's file, which the journal never keeps."""
        where = ""
        if exc.filename:
            inside = Path(str(exc.filename)).is_relative_to(self.root)
            where = (
                f" (dans le dossier de la démarche {self.root})"
                if inside
                else " (hors du dossier de la démarche)"
            )
        return f"Erreur disque : {exc.strerror or type(exc).__name__}{where}"

    # -- one notification ----------------------------------------------------------------------

    def handle(self, notification: Notification) -> None:
        if not notification.case_id or not is_uuid(notification.case_id):
            raise InvalidDataError("Notification sans identifiant de cas (caseId).")
        if notification.is_new_case:
            self.ingest_case(notification.case_id)
        elif (notification.event_status or "").upper() == EventStatus.RECEIVED:
            self.record_acknowledgement(notification.case_id, notification.event_id)
        else:
            self.ingest_event(notification.case_id, notification.event_id)
        # Before the deletion: once HubEE has deleted it, no later run sees this notification
        # again to close its journal entry (an error in between reopens it).
        NotificationFailure.objects.filter(
            demarche=self.demarche, notification_id=notification.id, resolved_at__isnull=True
        ).update(resolved_at=timezone.now())
        self.client.delete_notification(notification.id)

    def _own_case(self, dossier: Dossier | None) -> Dossier | None:
        """The case's dossier if it is this démarche's; another démarche's is never touched."""
        if dossier is not None and dossier.demarche_id != self.demarche.pk:
            logger.warning(
                "démarche %s: case %s belongs to démarche %s, refused",
                self.demarche.pk,
                dossier.hubee_case_id,
                dossier.demarche_id,
            )
            raise InvalidDataError(FOREIGN_CASE)
        return dossier

    def _own_event(self, evenement: Evenement | None, dossier: Dossier | None) -> None:
        """An event already stored elsewhere is never moved to `dossier` (None: a new case)."""
        if evenement is None or (dossier is not None and evenement.dossier_id == dossier.pk):
            return
        owner = evenement.dossier.demarche_id
        logger.warning(
            "démarche %s: event %s belongs to dossier %s of démarche %s, refused",
            self.demarche.pk,
            evenement.hubee_event_id,
            evenement.dossier_id,
            owner,
        )
        raise InvalidDataError(FOREIGN_EVENT if owner != self.demarche.pk else OTHER_DOSSIER_EVENT)

    def ingest_case(self, case_id: str) -> Dossier:
        # Read once, before the call: only this thread handles this case in this run, and the
        # lease keeps other runs away (another démarche's run: see store_case).
        known = self._own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        if known is not None and known.purged_at is not None:
            # Its retention period is over: never bring personal data or files back.
            return known
        case = self.client.get_case(case_id)
        dossier, created = self.store_case(case_id, case, known)
        if created:
            self.counters.add(dossiers_created=1)
        pieces = self.store_attachments(
            dossier, case.get("attachments") or [], event=None, new_dossier=created
        )
        # A new dossier's rows are the ones just made: no need to read them back.
        pending = [p for p in pieces if p.state == AttachmentState.PENDING] if created else None
        self.download_pending(dossier, event=None, pieces=pending)
        # Only this démarche's dossier goes out through this démarche's connection.
        send_pending(self.client, self._own_case(dossier), case.get("events") or [])
        return dossier

    def ingest_event(self, case_id: str, event_id: str | None) -> None:
        if not event_id or not is_uuid(event_id):
            raise InvalidDataError("Notification d'événement sans identifiant valide.")
        # Read once, before the call, like ingest_case.
        dossier = self._own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        known = Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first()
        self._own_event(known, dossier)
        event = self.client.get_event(case_id, event_id)
        if dossier is None:
            # An event on a case we never stored (its first notification was lost or purged).
            dossier = self.ingest_case(case_id)
        if dossier.purged_at is not None:
            self.client.patch_event(case_id, event_id, EventStatus.RECEIVED)
            return
        evenement = self.store_event(dossier, event, event_id, known)
        if evenement.action_type == ActionType.ATTACH_DEPOSIT:
            self.store_attachments(dossier, event.get("attachments") or [], event=evenement)
            self.download_pending(dossier, event=evenement)
        # Any event may move the case (a complement comes back as ATTACH_DEPOSIT with
        # HUBEE_NOTIFIED, API.md §9.2), not only STATUS_UPDATE.
        if evenement.case_new_status in CaseStatus.values:
            Dossier.objects.filter(pk=dossier.pk).update(
                status=evenement.case_new_status, updated_at=timezone.now()
            )
        if (event.get("status") or "").upper() != EventStatus.RECEIVED:
            self.client.patch_event(case_id, event_id, EventStatus.RECEIVED)
            Evenement.objects.filter(pk=evenement.pk).update(hubee_status=EventStatus.RECEIVED)

    def record_acknowledgement(self, case_id: str, event_id: str | None) -> None:
        if not event_id or not is_uuid(event_id):
            return
        if Evenement.objects.filter(
            hubee_event_id=event_id,
            dossier__demarche_id=self.demarche.pk,
            dossier__hubee_case_id=case_id,
        ).update(hubee_status=EventStatus.RECEIVED, updated_at=timezone.now()):
            return
        # Not ours: an unknown event is nothing to record, another démarche's is refused.
        self._own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        evenement = (
            Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first()
        )
        if evenement is not None and evenement.dossier.demarche_id != self.demarche.pk:
            self._own_event(evenement, None)

    # -- records -------------------------------------------------------------------------------

    def store_case(
        self, case_id: str, case: dict[str, Any], known: Dossier | None = None
    ) -> tuple[Dossier, bool]:
        """Create or update the case's dossier; `known` is its row as read by the caller."""
        if not isinstance(case, dict) or str(case.get("id", "")).lower() != case_id.lower():
            raise InvalidDataError(
                "HubEE a renvoyé un cas qui ne correspond pas à la notification."
            )
        external_id = str(case.get("externalId") or "").strip()
        if not external_id:
            raise InvalidDataError("Cas HubEE sans numéro de télédossier (externalId).")
        applicant = case.get("applicant") if isinstance(case.get("applicant"), dict) else {}
        status = case.get("status") if case.get("status") in CaseStatus.values else ""
        values = {
            "external_id": external_id[:64],
            "process_code": str(case.get("processCode") or self.demarche.process_code)[:30],
            "applicant_first_name": str(applicant.get("firstName") or "")[:255],
            "applicant_last_name": str(applicant.get("lastName") or "")[:255],
            "applicant_email": str(applicant.get("email") or "")[:320],
            "partner_attributes": str(case.get("partnerAttributes") or ""),
            "hubee_created_at": parse_hubee_datetime(case.get("createDateTime")),
            "hubee_updated_at": parse_hubee_datetime(case.get("updateDateTime")),
            "hubee_transmitted_at": parse_hubee_datetime(case.get("transmissionDateTime")),
            "hubee_closed_at": parse_hubee_datetime(case.get("closeDateTime")),
            "raw": _without_events(case),
        }
        if known is not None:
            for name, value in values.items():
                setattr(known, name, value)
            if status:
                known.status = status
            known.save()
            return known, False
        try:
            return self._create_dossier(case_id, external_id, status, values), True
        except IntegrityError:
            # Another démarche's run stored the case since our read (each run holds its own
            # lease): the first one keeps it, the unique constraint says who.
            self._own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
            raise

    def _create_dossier(
        self, case_id: str, external_id: str, status: str, values: dict[str, Any]
    ) -> Dossier:
        with transaction.atomic():
            # Only the names that could collide are read, not every folder of the démarche.
            base = storage.sanitize_component(external_id, case_id)
            taken = set(
                Dossier.objects.filter(
                    demarche=self.demarche, folder_name__startswith=base.rsplit(".", 1)[0]
                ).values_list("folder_name", flat=True)
            )
            folder_name = storage.unique_name(self.root, base, taken)
            dossier = Dossier.objects.create(
                demarche=self.demarche,
                hubee_case_id=case_id,
                folder_name=folder_name,
                status=status or CaseStatus.HUBEE_NOTIFIED,
                **values,
            )
            # Statuses go out only once the files are stored; queued now, in this transaction,
            # so that a crash cannot lose or repeat them.
            queue_automatic_statuses(dossier)
            return dossier

    def store_event(
        self,
        dossier: Dossier,
        event: dict[str, Any],
        event_id: str,
        known: Evenement | None = None,
    ) -> Evenement:
        """Create or update the event's row; `known` is its row as read by the caller (checked
        to be this dossier's)."""
        if not isinstance(event, dict) or str(event.get("id", "")).lower() != event_id.lower():
            raise InvalidDataError("HubEE a renvoyé un événement qui ne correspond pas.")
        values = {
            "action_type": str(event.get("actionType") or "")[:100],
            "direction": Direction.RECEIVED,
            "message": str(event.get("message") or ""),
            "comment": str(event.get("comment") or ""),
            "author": str(event.get("author") or "")[:255],
            "case_current_status": str(event.get("caseCurrentStatus") or "")[:20],
            "case_new_status": str(event.get("caseNewStatus") or "")[:20],
            "hubee_status": str(event.get("status") or "")[:12],
            "hubee_created_at": parse_hubee_datetime(event.get("createDateTime")),
            "hubee_updated_at": parse_hubee_datetime(event.get("updateDateTime")),
            "raw": event,
        }
        if known is not None:
            self._own_event(known, dossier)
            for name, value in values.items():
                setattr(known, name, value)
            known.save()
            return known
        try:
            with transaction.atomic():
                return Evenement.objects.create(dossier=dossier, hubee_event_id=event_id, **values)
        except IntegrityError:
            # Stored meanwhile by another démarche's run: it stays there.
            self._own_event(
                Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first(),
                dossier,
            )
            raise

    def store_attachments(
        self,
        dossier: Dossier,
        attachments: Iterable[Any],
        *,
        event: Evenement | None,
        new_dossier: bool = False,
    ) -> list[PieceJointe]:
        """Reserve one row and one final path per attachment before any byte is written.

        Returns the rows created. `new_dossier`: the dossier was created by this notification,
        so it has no rows yet.
        """
        folder = self.root / dossier.folder_name
        created: list[PieceJointe] = []
        with transaction.atomic():
            existing = {}
            if not new_dossier:
                existing = {
                    str(pj.hubee_attachment_id): pj
                    for pj in PieceJointe.objects.filter(dossier=dossier)
                }
            taken = {Path(pj.stored_path).name for pj in existing.values()}
            for attachment in attachments:
                if not isinstance(attachment, dict) or not is_uuid(attachment.get("id")):
                    raise InvalidDataError("Pièce jointe HubEE sans identifiant valide.")
                attachment_id = attachment["id"].lower()
                hubee_status = str(attachment.get("status") or "").upper()
                piece = existing.get(attachment_id)
                if piece is not None:
                    if piece.hubee_status != hubee_status:
                        piece.hubee_status = hubee_status
                        if (
                            piece.state == AttachmentState.UNAVAILABLE
                            and hubee_status == AttachmentStatus.RECEIVED
                        ):
                            piece.state = AttachmentState.PENDING
                        piece.save(update_fields=["hubee_status", "state", "updated_at"])
                    continue
                name = storage.sanitize_component(attachment.get("fileName"), "piece-jointe")
                name = storage.unique_name(folder, name, taken)
                taken.add(name)
                unavailable = hubee_status in UNAVAILABLE_FILE
                size = attachment.get("size")
                created.append(
                    PieceJointe(
                        dossier=dossier,
                        evenement=event,
                        hubee_attachment_id=attachment_id,
                        file_name=str(attachment.get("fileName") or "")[:1000],
                        stored_path=f"{dossier.folder_name}/{name}",
                        attachment_type=str(attachment.get("type") or "")[:100],
                        mime_type=str(attachment.get("mimeType") or "")[:255],
                        size=size if isinstance(size, int) and size >= 0 else None,
                        hubee_status=hubee_status,
                        state=(
                            AttachmentState.UNAVAILABLE if unavailable else AttachmentState.PENDING
                        ),
                        state_detail=_unavailable_reason(hubee_status) if unavailable else "",
                    )
                )
            # One INSERT for all (the primary keys come back: SQLite ≥ 3.35, PostgreSQL).
            PieceJointe.objects.bulk_create(created)
        return created

    def download_pending(
        self,
        dossier: Dossier,
        *,
        event: Evenement | None,
        pieces: Iterable[PieceJointe] | None = None,
    ) -> None:
        """Download the rows still to fetch (`pieces`, or read from the database), then make
        the files durable together and mark them stored."""
        if pieces is None:
            pieces = PieceJointe.objects.filter(
                dossier=dossier,
                evenement=event,
                state__in=[AttachmentState.PENDING, AttachmentState.CORRUPT],
            )
        waiting = []
        written: list[tuple[PieceJointe, DownloadResult]] = []
        folders: dict[Path, bool] = {}  # folder -> created by this download
        try:
            for piece in pieces:
                if piece.hubee_status == AttachmentStatus.PENDING:
                    waiting.append(piece)
                    continue
                target = storage.resolve_inside(self.root, piece.stored_path)
                if target.parent not in folders:
                    folders[target.parent] = not target.parent.is_dir()
                written.append((piece, self.download(dossier, piece, event, target)))
        except Exception:
            # Keep what arrived: the rerun does not fetch it again.
            self._mark_stored(written, folders)
            raise
        self._mark_stored(written, folders)
        if waiting:
            raise PendingAttachmentError(
                f"{len(waiting)} pièce(s) encore en cours de dépôt sur HubEE : nouvel essai "
                "à la prochaine synchronisation."
            )

    def download(
        self, dossier: Dossier, piece: PieceJointe, event: Evenement | None, target: Path
    ) -> DownloadResult:
        """Fetch one file to its final name (fsynced, renamed; the folder is not synced)."""
        case_id = str(dossier.hubee_case_id)
        attachment_id = str(piece.hubee_attachment_id)

        def fetch(handle) -> Any:
            if event is None:
                return self.client.download_case_attachment(
                    case_id, attachment_id, handle, piece.size
                )
            return self.client.download_event_attachment(
                case_id, str(event.hubee_event_id), attachment_id, handle, piece.size
            )

        try:
            return storage.write_atomic(target, fetch, sync_folder=False)
        except TransientError as exc:
            if type(exc).__name__ == "CorruptDownloadError":
                PieceJointe.objects.filter(pk=piece.pk).update(
                    state=AttachmentState.CORRUPT, state_detail=str(exc)
                )
            raise

    def _mark_stored(
        self, written: list[tuple[PieceJointe, DownloadResult]], folders: dict[Path, bool]
    ) -> None:
        """One fsync per folder (and its parent's if new), then the rows say STORED: a row
        never claims a file whose name a power cut could still lose."""
        if not written:
            return
        storage.sync_dirs(folders, created=[f for f, new in folders.items() if new])
        now = timezone.now()
        # One commit for all; plain UPDATEs, as bulk_update's CASE expressions cost more CPU.
        with transaction.atomic():
            for piece, result in written:
                PieceJointe.objects.filter(pk=piece.pk).update(
                    state=AttachmentState.STORED,
                    state_detail="",
                    sha256=result.sha256_hex,
                    size=result.size,
                    downloaded_at=now,
                    updated_at=now,
                )
        self.counters.add(
            files_downloaded=len(written),
            bytes_downloaded=sum(result.size for _, result in written),
        )

    # -- journal -------------------------------------------------------------------------------

    def _record_failure(
        self, notification: Notification, kind: str, error: str, *, not_found: bool = False
    ) -> None:
        self.failed.add(notification.id)
        self.counters.add(errors=1)
        logger.warning("démarche %s notification %s: %s", self.demarche.pk, notification.id, kind)
        now = timezone.now()
        try:
            failure, _ = NotificationFailure.objects.get_or_create(
                demarche=self.demarche,
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
            failure.last_run = self.run_row
            failure.resolved_at = None
            if not_found:
                failure.not_found_runs += 1
                if failure.not_found_runs >= self.demarche.connection.not_found_attempts:
                    self._give_up(notification, failure)
            failure.save()
        except DatabaseError:
            logger.exception("notification %s: failure could not be journaled", notification.id)

    def _give_up(self, notification: Notification, failure: NotificationFailure) -> None:
        """HubEE keeps answering 404 (purged case): delete the notification, keep the trace."""
        try:
            self.client.delete_notification(notification.id)
        except NotFoundError:
            pass
        except HubEEError as exc:
            failure.error += f"\nSuppression impossible : {exc}"
            return
        failure.given_up = True
        failure.given_up_at = timezone.now()

    def _finish(self) -> None:
        counters = self.counters
        run = self.run_row
        run.finished_at = timezone.now()
        run.notifications_handled = counters.notifications_handled
        run.dossiers_created = counters.dossiers_created
        run.files_downloaded = counters.files_downloaded
        run.bytes_downloaded = counters.bytes_downloaded
        run.errors = counters.errors + (1 if self.fatal else 0)
        run.api_calls = self.client.stats.calls - self.calls_at_start
        if self.fatal:
            run.status = RunStatus.FAILED
            run.message = self.fatal
            run.failure_kind = self.fatal_kind
        elif counters.errors:
            run.status = RunStatus.PARTIAL
            run.message = f"{counters.errors} notification(s) en échec, conservées sur HubEE."
        else:
            run.status = RunStatus.OK
        run.save()


def _without_events(case: dict[str, Any]) -> dict[str, Any]:
    # Events are stored as rows; keeping them in the raw case too would grow it at every sync.
    return {key: value for key, value in case.items() if key != "events"}


def _unavailable_reason(hubee_status: str) -> str:
    return {
        AttachmentStatus.CORRUPTED: (
            "Fichier rejeté par l'antivirus de HubEE : il n'est pas téléchargeable."
        ),
        AttachmentStatus.REJECTED: (
            "Fichier refusé par HubEE (taille ou type différent de celui déclaré)."
        ),
        AttachmentStatus.DELETED: (
            "Fichier supprimé de HubEE (purge) avant d'avoir été téléchargé."
        ),
    }.get(hubee_status, f"Fichier indisponible sur HubEE ({hubee_status}).")
