from datetime import timedelta

from django import template

from dossiers.records.queues import Queue, queue_of
from dossiers.web.formats import file_size
from hubee_portal.hubee.vocabulary import CaseStatus, label_of

register = template.Library()

BADGE_CLASSES = {Queue.TODO: "todo", Queue.WAITING: "waiting", Queue.DONE: "done"}


@register.inclusion_tag("dossiers/_status.html")
def status_badge(status: str):
    css = "error" if status == CaseStatus.SI_INTG_ERROR else BADGE_CLASSES[queue_of(status)]
    return {"label": label_of(status), "css": css}


@register.filter
def minutes(value: timedelta) -> str:
    total = int(value.total_seconds() // 60)
    return f"{total} minute{'s' if total > 1 else ''}"


@register.filter(name="status_label")
def status_label_filter(value: str) -> str:
    return label_of(value)


@register.filter
def pluriel(value, suffix: str = "s") -> str:
    """French plural: 0 and 1 are singular (Django's pluralize makes 0 plural)."""
    try:
        return suffix if abs(int(value)) >= 2 else ""
    except (TypeError, ValueError):
        return ""


@register.filter(name="file_size")
def file_size_filter(value) -> str:
    """« 850 Ko », « 1,2 Mo », « 12 octets » (Django's filesizeformat writes « Kio »)."""
    return file_size(value)
