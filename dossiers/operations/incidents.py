"""E-mail alerts to settings.ADMINS, built on the /healthz checks: one mail when an incident
opens, one when it clears. A mail that cannot be sent is tried again with a growing delay."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Heartbeat, Incident
from dossiers.operations import health

logger = logging.getLogger(__name__)

SUBJECTS = {
    "worker": "le worker ne donne plus signe de vie",
    "credentials": "identifiants HubEE refusés",
    "sync_failing": "synchronisations en échec",
    "sync_stale": "pas de synchronisation réussie récente",
    "given_up": "notification HubEE abandonnée",
    "disk": "dossier de téléchargement presque plein",
    "integrity": "fichiers manquants ou altérés",
    "download_failed": "fichiers HubEE non téléchargés",
    "purge": "purge RGPD incomplète",
    "antivirus": "antivirus injoignable, fichiers en attente d'analyse",
}
# Retry delays after a failed send: 5 min, 10, 20… up to 6 h (the schedule runs every 5 min).
FIRST_RETRY = timedelta(minutes=5)
LAST_RETRY = timedelta(hours=6)
NO_RECIPIENT = "Aucun destinataire : ADMIN_EMAILS est vide."
# An incident closes once its problem has been gone this long (three checks in a row).
CLEAR_AFTER = timedelta(minutes=15)
LOCK_NAME = "incidents"  # a Heartbeat row, locked while incidents are evaluated


def evaluate(now: datetime | None = None) -> tuple[int, int]:
    """Open new incidents, close those clear for CLEAR_AFTER, then send the mails that are due;
    returns (opened, closed)."""
    now = now or timezone.now()
    Heartbeat.objects.get_or_create(name=LOCK_NAME)
    try:
        with transaction.atomic():
            # One evaluation at a time (the worker's schedule and the cron's hubee_check): the
            # report is read under the lock, so a stale one never closes a fresh incident.
            Heartbeat.objects.filter(name=LOCK_NAME).update(beat_at=now)
            report = health.check(now)
            opened, closed = _apply(report, now)
    except DatabaseError:
        logger.warning("incidents not evaluated: database unreachable")
        return 0, 0  # nothing can be recorded; /healthz and the cron's exit code say it
    send_due_mails(now)
    return opened, closed


def _apply(report: health.Report, now: datetime) -> tuple[int, int]:
    current = {(p.kind, p.subject): p for p in report.problems}
    open_incidents = {
        (i.kind, i.subject): i
        for i in Incident.objects.filter(closed_at__isnull=True)  # under the lock row
    }
    # Back before CLEAR_AFTER: the same incident goes on (no new mail for a flapping problem).
    Incident.objects.filter(
        pk__in=[i.pk for key, i in open_incidents.items() if key in current],
        clear_since__isnull=False,
    ).update(clear_since=None)
    clear = [i for key, i in open_incidents.items() if key not in current]
    Incident.objects.filter(pk__in=[i.pk for i in clear if i.clear_since is None]).update(
        clear_since=now
    )
    closing = [i.pk for i in clear if i.clear_since and now - i.clear_since >= CLEAR_AFTER]
    Incident.objects.filter(pk__in=closing).update(closed_at=now)
    opened = 0
    for key, problem in current.items():
        if key in open_incidents:
            continue
        try:
            with transaction.atomic():
                Incident.objects.create(
                    kind=problem.kind, subject=problem.subject, detail=problem.detail, opened_at=now
                )
        except IntegrityError:
            continue  # opened meanwhile by a run that did not take the lock (older version)
        opened += 1
    return opened, len(closing)


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def awaiting_mail() -> QuerySet[Incident]:
    return Incident.objects.filter(
        Q(closed_at__isnull=True, notified_at__isnull=True)
        | Q(closed_at__isnull=False, notified_at__isnull=False, closed_notified_at__isnull=True)
    )


def send_due_mails(now: datetime | None = None) -> int:
    """Opening mails of open incidents, closing mails of those whose opening was mailed.
    An incident that cleared before anyone could be told gets no mail at all."""
    now = now or timezone.now()
    sent = 0
    for incident in awaiting_mail().order_by("opened_at", "pk"):
        if incident.mail_attempts and now < incident.mail_attempted_at + retry_delay(
            incident.mail_attempts
        ):
            continue
        # Claim the attempt first: two workers never send the same mail twice.
        claimed = Incident.objects.filter(
            pk=incident.pk, mail_attempts=incident.mail_attempts
        ).update(mail_attempts=F("mail_attempts") + 1, mail_attempted_at=now)
        if not claimed:
            continue
        closing = incident.closed_at is not None
        error = _send(incident, closing)
        if error:
            Incident.objects.filter(pk=incident.pk).update(mail_error=error[:200])
            continue
        done = {"closed_notified_at" if closing else "notified_at": now}
        Incident.objects.filter(pk=incident.pk).update(mail_attempts=0, mail_error="", **done)
        sent += 1
    return sent


def _send(incident: Incident, closing: bool) -> str:
    """Send one mail; returns "" or why it could not be sent (no address, no server text)."""
    if not settings.ADMINS:
        return NO_RECIPIENT
    title = SUBJECTS.get(incident.kind, incident.kind)
    opened = f"{timezone.localtime(incident.opened_at):%d/%m/%Y à %H:%M}"
    links = (
        # The detail (HubEE's answers, HTTP codes) is on that page, never in the mail.
        "Le détail technique est sur la page « État du portail » : "
        f"{settings.PORTAL_BASE_URL}{reverse('operations')}\n"
        f"Supervision (JSON) : {settings.PORTAL_BASE_URL}{reverse('healthz')}\n"
    )
    if closing:
        subject = f"Résolu : {title}"
        body = (
            f"L'incident suivant est terminé : {incident.detail}\n\n"
            f"Ouvert le {opened}, clos le "
            f"{timezone.localtime(incident.closed_at):%d/%m/%Y à %H:%M}.\n\n{links}"
        )
    else:
        subject = title[0].upper() + title[1:]
        body = (
            f"{incident.detail}\n\n"
            f"Incident ouvert le {opened}. Vous ne recevrez pas d'autre courriel pour cet "
            "incident avant sa fin, qui vous sera annoncée.\n\n"
            f"{links}Administration : {settings.PORTAL_BASE_URL}/admin/\n"
        )
    try:
        mail_admins(subject, body, fail_silently=False)
    except Exception as exc:
        # The exception type only: an SMTP error text may echo addresses.
        logger.exception("incident %s: the alert e-mail could not be sent", incident.pk)
        return f"Envoi impossible ({type(exc).__name__}), nouvel essai plus tard."
    return ""
