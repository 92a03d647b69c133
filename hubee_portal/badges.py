"""A HubEE case status on screen: one word (the protocol's label) and one colour per meaning, the
same in the portal and in the sandbox (template library `badges`). Here, beside the protocol and
not in dossiers, because the sandbox may not import dossiers."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from hubee_portal.hubee.vocabulary import CaseStatus, label_of

register = template.Library()

# One colour per meaning, the word always inside (RGAA 3.1): received ≠ in progress, and the
# three ends differ (treated, refused, closed). Unknown statuses and those before the service
# acts (received, notified, sent) look « to do ».
BADGE_CLASSES = {
    CaseStatus.IN_PROGRESS: "progress",
    CaseStatus.ADD_AWAITING: "waiting",
    CaseStatus.DONE: "done",
    CaseStatus.REFUSED: "refused",
    CaseStatus.CLOSED: "closed",
    CaseStatus.ARCHIVED: "closed",
    CaseStatus.SI_INTG_ERROR: "error",
}


def badge_class(status: str) -> str:
    return BADGE_CLASSES.get(status, "todo")


@register.simple_tag
def status_badge(status: str, code: bool = False) -> str:
    """The badge; with code=True, HubEE's value after the word (the sandbox's pages)."""
    if code:
        return format_html(
            '<span class="badge {}">{} <span class="muted">({})</span></span>',
            badge_class(status),
            label_of(status),
            status,
        )
    return format_html('<span class="badge {}">{}</span>', badge_class(status), label_of(status))
