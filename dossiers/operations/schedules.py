"""The periodic tasks of django-q2, by name: created idempotently after each migrate."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

SCHEDULE_NAME = "Synchronisation HubEE"
AUDIT_SCHEDULE_NAME = "Purge du journal d'audit"
DIGEST_SCHEDULE_NAME = "Récapitulatif quotidien des agents"
HEARTBEAT_SCHEDULE_NAME = "Battement du worker"
VERIFY_SCHEDULE_NAME = "Contrôle d'intégrité des fichiers"
PURGE_SCHEDULE_NAME = "Purge RGPD des dossiers expirés"
INCIDENTS_SCHEDULE_NAME = "Alertes aux administrateurs"
ANTIVIRUS_SCHEDULE_NAME = "Analyse antivirus des fichiers en attente"
PURGE_HOUR = 2
SANDBOX_TASKS = "hubee_portal.sandbox."


def ensure_schedule(**kwargs) -> Schedule:
    """Created idempotently by name (never tasks.schedule(), which duplicates)."""
    if not apps.is_installed("hubee_portal.sandbox"):
        # An install upgraded from a version that always had the sandbox: its nightly purge
        # would fail every night once the app is gone.
        Schedule.objects.filter(func__startswith=SANDBOX_TASKS).delete()
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "dossiers.tasks.enqueue_sync",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.HUBEE_SYNC_INTERVAL_MINUTES,
            "repeats": -1,
        },
    )
    for name, func, minutes in (
        (HEARTBEAT_SCHEDULE_NAME, "dossiers.tasks.heartbeat", 1),
        (INCIDENTS_SCHEDULE_NAME, "dossiers.tasks.evaluate_incidents", 5),
        (ANTIVIRUS_SCHEDULE_NAME, "dossiers.tasks.scan_pending_files", 2),
    ):
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
    tomorrow = timezone.localdate() + timedelta(days=1)
    for name, func, hour in (
        (AUDIT_SCHEDULE_NAME, "dossiers.tasks.purge_audit", 3),
        (DIGEST_SCHEDULE_NAME, "dossiers.tasks.send_daily_digest", settings.DIGEST_HOUR),
        (PURGE_SCHEDULE_NAME, "dossiers.tasks.purge_expired_dossiers", PURGE_HOUR),
    ):
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1},
            create_defaults={
                "func": func,
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
                "next_run": timezone.make_aware(datetime.combine(tomorrow, time(hour))),
            },
        )
    next_sunday = tomorrow + timedelta(days=(6 - tomorrow.weekday()) % 7)
    Schedule.objects.update_or_create(
        name=VERIFY_SCHEDULE_NAME,
        defaults={
            "func": "dossiers.tasks.verify_integrity",
            "schedule_type": Schedule.WEEKLY,
            "repeats": -1,
        },
        create_defaults={
            "func": "dossiers.tasks.verify_integrity",
            "schedule_type": Schedule.WEEKLY,
            "repeats": -1,
            "next_run": timezone.make_aware(datetime.combine(next_sunday, time(4))),
        },
    )
    return schedule
