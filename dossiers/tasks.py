"""django-q2 entry points: each minute, the schedule polls the due démarches in batches and
queues a full run for those with something to do (dossiers.exchange.fleet)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from dossiers.exchange import fleet, run
from dossiers.exchange.outbound import delivery
from dossiers.records import alerts, audit, polls

logger = logging.getLogger(__name__)


def enqueue_sync() -> int:
    """Scheduled every minute: the due démarches in batches (one task lists many), and a full
    run for those with pushes due. Several workers, and several machines sharing the broker,
    share the tasks; the lease makes a duplicate run harmless. Returns the démarches planned."""
    plan = fleet.plan(queued=_queue_length())
    for batch in plan.polls:
        async_task(poll_demarches, batch, task_name=f"hubee-poll-{batch[0]}", group="hubee_poll")
    _queue_runs(plan.runs, active=False)
    return plan.demarches


def _queue_length() -> int:
    try:
        return get_broker().queue_size() or 0
    except Exception:  # the broker will say so itself when queuing; plan as if it were busy
        logger.exception("broker queue length unreadable")
        return fleet.QUIET_QUEUE + 1


def poll_demarches(demarche_ids: list[int]) -> dict:
    """One listing per démarche through a thread pool; a full run for those that need one."""
    outcome = fleet.poll(demarche_ids)
    _queue_runs(outcome.found, active=True)
    _queue_runs(outcome.failed, active=False)
    return outcome.as_task_result()


def _queue_runs(ids: list[int], *, active: bool) -> None:
    if not ids:
        return
    # Recorded before queuing: the next minute's plan does not queue them again.
    polls.record_requested(ids, timezone.now(), active=active)
    for pk in ids:
        async_task(sync_demarche_task, pk, task_name=f"hubee-sync-{pk}", group="hubee_sync")


def sync_demarche_task(demarche_id: int) -> dict:
    """Sync, deliver the due outbox, send the immediate alerts (dossiers.exchange.run)."""
    return run.run_demarche(demarche_id).as_task_result()


# -- outbox ------------------------------------------------------------------------------------


def send_outgoing(dossier_id: int) -> dict:
    """The task an agent's action queues (and the ONCE retry Schedules written until migration
    0010 ran): send the dossier's pending pushes now."""
    return delivery.deliver_dossier(dossier_id)


# -- audit and alerts --------------------------------------------------------------------------


def purge_audit() -> int:
    """Nightly: the audit entries past their retention, the connection logs past theirs, and
    the expired HubEE tokens."""
    from demarches import access_tokens

    access_tokens.purge_expired()
    audit.purge_login_logs()
    return audit.purge_expired()


def send_daily_digest() -> int:
    return alerts.send_daily_digests()


# -- operations --------------------------------------------------------------------------------


def heartbeat() -> None:
    from dossiers.operations import health
    from dossiers.records import tallies

    health.beat()
    # The list's running counts, folded every minute so that they stay a few rows per cell.
    tallies.compact()


def verify_integrity() -> dict:
    from dossiers.operations.integrity import select_demarches, verify
    from dossiers.records import tallies

    checks = verify(select_demarches(None))
    tallies.repair()
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


# -- antivirus ---------------------------------------------------------------------------------


def scan_files(piece_ids: list[int]) -> dict:
    """Queued when files are stored (dossiers.records.antivirus.request_scan)."""
    from dossiers.records import antivirus

    return antivirus.scan_pieces(piece_ids)


def scan_pending_files() -> dict:
    """Scheduled: the files still waiting (clamd was down, a task was lost) are scanned."""
    from dossiers.records import antivirus

    return antivirus.scan_pending()
