"""django-q2 entry points: the schedule fans out one task per enabled démarche."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from demarches.hubee import ConfigurationError, client_for
from demarches.models import Demarche
from dossiers.enums import OutgoingState
from dossiers.exchange import lease
from dossiers.exchange.inbound.sync import sync_demarche
from dossiers.exchange.lease import LEASE_TTL
from dossiers.exchange.outbound.outbox import (
    UnfinishedAttemptError,
    send_pending,
    unfinished_attempt_wait,
)
from dossiers.models import Dossier, OutgoingEvent
from dossiers.records import alerts, audit

logger = logging.getLogger(__name__)

# Shown to agents beside a push held back by the démarche's configuration (ConfigurationError).
WAITING_FOR_CONFIGURATION = (
    "En attente : rien n'a été envoyé, la connexion de la démarche à HubEE est à compléter par "
    "un administrateur technique (secret client à saisir à nouveau). L'envoi partira tout seul "
    "ensuite."
)

RETRY_SCHEDULE_PREFIX = "Nouvel essai d'envoi HubEE, dossier "
# Not a backoff: the sync holding the démarche sends it too when it is done (flush_outbox).
WAIT_SCHEDULE_PREFIX = "Envoi HubEE après la synchronisation, dossier "
# While a sync holds the démarche, a push waits this long before trying again.
BUSY_RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(minutes=15)


def enqueue_sync() -> int:
    """Scheduled every minute: one task per enabled démarche, so several workers (and several
    machines sharing the broker) share the work. The lease makes a duplicate harmless."""
    ids = list(Demarche.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        async_task(sync_demarche_task, pk, task_name=f"hubee-sync-{pk}", group="hubee_sync")
    return len(ids)


def sync_demarche_task(demarche_id: int) -> dict:
    demarche = (
        Demarche.objects.select_related("connection").filter(pk=demarche_id, enabled=True).first()
    )
    if demarche is None:
        return {"demarche": demarche_id, "skipped": "disabled or deleted"}
    outcome = sync_demarche(demarche)
    run = outcome.run
    if not outcome.skipped:
        # Pushes left pending (worker restarted, HubEE down) go out after each sync.
        flush_outbox(demarche.pk)
        alerts.send_immediate_alerts()
    return {
        "demarche": demarche_id,
        "skipped": outcome.skipped,
        "status": run.status if run else None,
        "dossiers_created": run.dossiers_created if run else 0,
        "errors": run.errors if run else 0,
    }


# -- outbox ------------------------------------------------------------------------------------


def send_outgoing(dossier_id: int) -> dict:
    """Read the case, then send the dossier's pending pushes (outbox.send_pending), under the
    démarche's lease so that a sync never sends the same push at the same time."""
    dossier = Dossier.objects.select_related("demarche__connection").filter(pk=dossier_id).first()
    if dossier is None:
        return {"dossier": dossier_id, "skipped": "deleted"}
    if not OutgoingEvent.objects.filter(dossier=dossier, state=OutgoingState.PENDING).exists():
        return {"dossier": dossier_id, "sent": 0}
    with lease.held(dossier.demarche_id, LEASE_TTL) as keeper:
        if keeper is None:
            schedule_retry(dossier_id, BUSY_RETRY_DELAY, prefix=WAIT_SCHEDULE_PREFIX)
            return {"dossier": dossier_id, "busy": True}
        _send_now(dossier)
    return {
        "dossier": dossier_id,
        "pending": OutgoingEvent.objects.filter(
            dossier=dossier, state=OutgoingState.PENDING
        ).count(),
    }


def _send_now(dossier: Dossier) -> None:
    before = dict(
        OutgoingEvent.objects.filter(dossier=dossier, state=OutgoingState.PENDING).values_list(
            "pk", "attempts"
        )
    )
    try:
        client = client_for(dossier.demarche)
        case = client.get_case(str(dossier.hubee_case_id))
        send_pending(client, dossier, case.get("events") or [])
    except ConfigurationError as exc:
        # Nothing left: no attempt is counted and no retry scheduled. Once the démarche has its
        # secret (or allowed URLs) again and is enabled, its next sync flushes the outbox.
        logger.warning("outbox of dossier %s waits for its configuration: %s", dossier.pk, exc)
        OutgoingEvent.objects.filter(pk__in=before, state=OutgoingState.PENDING).update(
            last_error=WAITING_FOR_CONFIGURATION, updated_at=timezone.now()
        )
    except UnfinishedAttemptError:
        # Not a failure: a cut-off POST may still land; try once it cannot any more.
        wait = max(
            (unfinished_attempt_wait(o) for o in OutgoingEvent.objects.filter(pk__in=before)),
            default=timedelta(0),
        )
        schedule_retry(dossier.pk, wait + timedelta(seconds=1))
    except Exception as exc:
        # The type only: HubEE's error text may echo the message written to the citizen.
        logger.warning("outbox of dossier %s: %s, will retry", dossier.pk, type(exc).__name__)
        _after_failure(dossier, before, exc)


def _after_failure(dossier: Dossier, before: dict[int, int], exc: Exception) -> None:
    """Count the try on every push still pending; fail those out of attempts, retry the rest."""
    limit = settings.HUBEE_OUTBOX_MAX_ATTEMPTS
    most = 0
    for outgoing in OutgoingEvent.objects.filter(pk__in=before, state=OutgoingState.PENDING):
        if outgoing.attempts == before[outgoing.pk]:
            # Not tried yet in this run (reading the case failed, or an earlier push did).
            outgoing.attempts += 1
            outgoing.last_error = str(exc)
        if outgoing.attempts >= limit:
            outgoing.state = OutgoingState.FAILED
        outgoing.save(update_fields=["attempts", "last_error", "state", "updated_at"])
        if outgoing.state == OutgoingState.PENDING:
            most = max(most, outgoing.attempts)
    if most:
        delay = min(BUSY_RETRY_DELAY * 2 ** (most - 1), MAX_RETRY_DELAY)
        schedule_retry(dossier.pk, delay)


def schedule_retry(
    dossier_id: int, delay: timedelta, prefix: str = RETRY_SCHEDULE_PREFIX
) -> Schedule:
    """One pending retry per dossier and reason (a ONCE schedule, deleted once run)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=f"{prefix}{dossier_id}",
        defaults={
            "func": "dossiers.tasks.send_outgoing",
            "args": repr(int(dossier_id)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": timezone.now() + delay,
        },
    )
    return schedule


def flush_outbox(demarche_id: int) -> int:
    """Send the démarche's pending pushes whose retry is not scheduled later (backoff);
    returns how many dossiers were tried."""
    ids = set(
        OutgoingEvent.objects.filter(dossier__demarche_id=demarche_id, state=OutgoingState.PENDING)
        .order_by()
        .values_list("dossier_id", flat=True)
        .distinct()
    )
    later = {
        int(name.removeprefix(RETRY_SCHEDULE_PREFIX))
        for name in Schedule.objects.filter(
            name__startswith=RETRY_SCHEDULE_PREFIX, next_run__gt=timezone.now()
        ).values_list("name", flat=True)
    }
    for dossier_id in sorted(ids - later):
        send_outgoing(dossier_id)
    return len(ids - later)


# -- audit and alerts --------------------------------------------------------------------------


def purge_audit() -> int:
    return audit.purge_expired()


def send_daily_digest() -> int:
    return alerts.send_daily_digests()


# -- operations --------------------------------------------------------------------------------


def heartbeat() -> None:
    from dossiers.operations import health

    health.beat()


def verify_integrity() -> dict:
    from dossiers.operations.integrity import select_demarches, verify

    checks = verify(select_demarches(None))
    return {
        "checked": sum(c.files_checked for c in checks),
        "missing": sum(c.missing for c in checks),
        "altered": sum(c.altered for c in checks),
    }


def purge_expired_dossiers() -> dict:
    from dossiers.operations.retention import purge

    result = purge()
    return {"dossiers": len(result.dossiers), "files": result.files, "errors": result.errors}


def evaluate_incidents() -> dict:
    from dossiers.operations import incidents

    opened, closed = incidents.evaluate()
    return {"opened": opened, "closed": closed}
