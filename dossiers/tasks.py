"""django-q2 entry points: the schedule fans out one task per enabled démarche."""

from __future__ import annotations

import logging

from django.conf import settings
from django_q.models import Schedule
from django_q.tasks import async_task

from demarches.models import Demarche
from dossiers.sync import sync_demarche

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "Synchronisation HubEE"


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
    return {
        "demarche": demarche_id,
        "skipped": outcome.skipped,
        "status": run.status if run else None,
        "dossiers_created": run.dossiers_created if run else 0,
        "errors": run.errors if run else 0,
    }


def ensure_schedule(**kwargs) -> Schedule:
    """Created idempotently by name (never tasks.schedule(), which duplicates)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "dossiers.tasks.enqueue_sync",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.HUBEE_SYNC_INTERVAL_MINUTES,
            "repeats": -1,
        },
    )
    return schedule
