"""E-mail alerts to settings.ADMINS: one per incident, built on the /healthz checks."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone

from dossiers.models import Incident
from hubee_portal import health

logger = logging.getLogger(__name__)

SUBJECTS = {
    "worker": "le worker ne donne plus signe de vie",
    "credentials": "identifiants HubEE refusés",
    "sync_failing": "synchronisations en échec",
    "sync_stale": "pas de synchronisation réussie récente",
    "given_up": "notification HubEE abandonnée",
    "disk": "dossier de téléchargement presque plein",
}


def evaluate(now: datetime | None = None) -> tuple[int, int]:
    """Open (and mail) new incidents, close cleared ones; returns (opened, closed)."""
    now = now or timezone.now()
    report = health.check(now)
    if not report.database:
        return 0, 0  # nothing can be recorded; /healthz and the monitoring tool say it
    current = {(p.kind, p.subject): p for p in report.problems}
    opened = closed = 0
    with transaction.atomic():
        open_incidents = {
            (i.kind, i.subject): i for i in Incident.objects.filter(closed_at__isnull=True)
        }
        for key, incident in open_incidents.items():
            if key not in current:
                incident.closed_at = now
                incident.save(update_fields=["closed_at"])
                closed += 1
        new = [
            Incident.objects.create(kind=p.kind, subject=p.subject, detail=p.detail, opened_at=now)
            for key, p in current.items()
            if key not in open_incidents
        ]
    for incident in new:
        opened += 1
        _notify(incident, now)
    return opened, closed


def _notify(incident: Incident, now: datetime) -> None:
    title = SUBJECTS.get(incident.kind, incident.kind)
    body = (
        f"{incident.detail}\n\n"
        f"Incident ouvert le {timezone.localtime(incident.opened_at):%d/%m/%Y à %H:%M}. "
        "Vous ne recevrez pas d'autre courriel pour cet incident tant qu'il n'est pas résolu.\n\n"
        f"État du portail : {settings.PORTAL_BASE_URL}/healthz\n"
        f"Administration : {settings.PORTAL_BASE_URL}/admin/\n"
    )
    try:
        mail_admins(title[0].upper() + title[1:], body, fail_silently=False)
    except Exception:
        # Kept open and unmarked: visible in the admin; no retry storm every few minutes.
        logger.exception("incident %s: the alert e-mail could not be sent", incident.pk)
        return
    incident.notified_at = now
    incident.save(update_fields=["notified_at"])
