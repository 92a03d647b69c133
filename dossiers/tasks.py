"""django-q2 entry points: the schedule fans out one task per enabled démarche."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

from dossiers.exchange import run
from dossiers.exchange.outbound import delivery
from dossiers.records import alerts, audit

logger = logging.getLogger(__name__)


def enqueue_sync() -> int:
    """Scheduled every minute: one task per enabled démarche, so several workers (and several
    machines sharing the broker) share the work. The lease makes a duplicate harmless."""
    ids = list(run.enabled().values_list("pk", flat=True))
    for pk in ids:
        async_task(sync_demarche_task, pk, task_name=f"hubee-sync-{pk}", group="hubee_sync")
    return len(ids)


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
    """Nightly: the audit entries past their retention, and the connection logs past theirs."""
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
