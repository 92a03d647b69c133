"""E-mail alerts to agents: none, one per sync with news, or a daily digest (their choice).

An alert names démarches and télédossier numbers and links to the portal; never the
applicant nor what they wrote (an e-mail may be forwarded or read on a phone).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from demarches import installation
from dossiers.enums import ActionType, AlertMode, Direction
from dossiers.models import AgentPreference, Dossier, Evenement
from dossiers.records.access import dossiers_for
from dossiers.records.queues import UNTREATED
from hubee_portal import environment

logger = logging.getLogger(__name__)

CITIZEN_ACTIONS = (ActionType.SENDING_MESSAGE, ActionType.ATTACH_DEPOSIT)


def preference_for(user) -> AgentPreference:
    preference, _ = AgentPreference.objects.get_or_create(user=user)
    return preference


def set_alert_mode(user, mode: str) -> AgentPreference:
    """Change the choice; alerts start from now (never a flood of old news)."""
    preference = preference_for(user)
    if preference.alert_mode != mode:
        now = timezone.now()
        preference.alert_mode = mode
        preference.alerts_sent_until = now
        preference.digest_sent_until = now
        preference.save()
    return preference


@dataclass
class News:
    dossiers: list[Dossier]
    events: list[Evenement]
    untreated: list[tuple[str, int]]

    def __bool__(self) -> bool:
        return bool(self.dossiers or self.events)


def news_for(user, since: datetime, until: datetime) -> News:
    visible = dossiers_for(user)
    dossiers = list(
        visible.filter(received_at__gt=since, received_at__lte=until)
        .select_related("demarche")
        .order_by("received_at")
    )
    events = list(
        Evenement.objects.filter(
            dossier__in=visible,
            direction=Direction.RECEIVED,
            action_type__in=CITIZEN_ACTIONS,
            created_at__gt=since,
            created_at__lte=until,
        )
        .select_related("dossier__demarche")
        .order_by("created_at")
    )
    untreated = list(
        visible.filter(status__in=UNTREATED)
        .values_list("demarche__name")
        .annotate(n=Count("pk"))
        .order_by("demarche__name")
    )
    return News(dossiers, events, untreated)


def _link(dossier: Dossier) -> str:
    return settings.PORTAL_BASE_URL + reverse("dossiers:detail", args=[dossier.pk])


def _send(user, news: News, *, digest: bool) -> None:
    kinds = Counter(
        "message" if e.action_type == ActionType.SENDING_MESSAGE else "documents"
        for e in news.events
    )
    parts = []
    if news.dossiers:
        n = len(news.dossiers)
        parts.append(f"{n} nouveau{'x' if n > 1 else ''} dossier{'s' if n > 1 else ''}")
    if kinds["message"]:
        parts.append(f"{kinds['message']} message{'s' if kinds['message'] > 1 else ''} d'usager")
    if kinds["documents"]:
        parts.append(f"{kinds['documents']} dépôt{'s' if kinds['documents'] > 1 else ''} de pièces")
    prefix = "Récapitulatif du jour" if digest else "Nouveautés"
    portal = installation.current()
    subject = environment.subject(f"[{portal.name}] {prefix} : {', '.join(parts)}")
    body = render_to_string(
        "emails/alert.txt",
        {
            "user": user,
            "portal": portal.full_name,
            "digest": digest,
            "dossiers": [(d, _link(d)) for d in news.dossiers],
            "events": [(e, _link(e.dossier)) for e in news.events],
            "untreated": news.untreated,
            "portal_url": settings.PORTAL_BASE_URL + reverse("dossiers:list"),
            "preferences_url": settings.PORTAL_BASE_URL + reverse("preferences"),
        },
    )
    send_mail(subject, body, None, [user.email])


def _dispatch(mode: str, field: str, now: datetime | None) -> int:
    now = now or timezone.now()
    sent = 0
    preferences = (
        AgentPreference.objects.filter(alert_mode=mode, user__is_active=True)
        .exclude(Q(user__email="") | Q(user__email__isnull=True))
        .select_related("user")
    )
    for preference in preferences:
        since = getattr(preference, field)
        # Claim the window first: two workers never send the same news twice.
        claimed = AgentPreference.objects.filter(pk=preference.pk, **{field: since}).update(
            **{field: now}
        )
        if not claimed:
            continue
        news = news_for(preference.user, since, now)
        if not news:
            continue
        try:
            _send(preference.user, news, digest=mode == AlertMode.DIGEST)
        except Exception:
            # Give the window back: the next run sends it.
            AgentPreference.objects.filter(pk=preference.pk, **{field: now}).update(
                **{field: since}
            )
            logger.exception("alert e-mail to agent %s failed", preference.user_id)
            continue
        sent += 1
    return sent


def send_immediate_alerts(now: datetime | None = None) -> int:
    """Run after each sync: one e-mail per agent with news since their last alert."""
    return _dispatch(AlertMode.IMMEDIATE, "alerts_sent_until", now)


def send_daily_digests(now: datetime | None = None) -> int:
    """Run once a day: one e-mail per agent with the day's news and what is left to do."""
    return _dispatch(AlertMode.DIGEST, "digest_sent_until", now)
