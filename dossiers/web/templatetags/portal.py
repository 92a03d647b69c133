from datetime import timedelta
from pathlib import Path

from django import template
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from dossiers.models.received import visible_name
from dossiers.web.formats import file_size
from hubee_portal.badges import BADGE_CLASSES, status_badge  # noqa: F401  (re-exported)
from hubee_portal.hubee.vocabulary import label_of

register = template.Library()

# The status badge is shared with the sandbox (same words, same colours).
register.simple_tag(status_badge, name="status_badge")


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


# What a mailto: would read as more than the address: headers (?cc=, &body=), a fragment, an
# escape; EmailValidator lets "?", "&", "%" and "#" pass in the part before the "@".
MAILTO_BREAKERS = frozenset("?&%#")
validate_email = EmailValidator()


@register.filter
def mailto_ok(value) -> bool:
    """Whether HubEE's e-mail value can safely follow « mailto: »; otherwise it is shown as
    text, never as a link."""
    if not isinstance(value, str) or not value or MAILTO_BREAKERS.intersection(value):
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


@register.filter
def piece_name(piece) -> str:
    """An attachment's name as HubEE gave it (PieceJointe, OutgoingAttachment), its hidden
    characters shown; when the name could mislead, the real extension (the stored file's, the
    one the download keeps) and the stored name follow."""
    name = piece.file_name or ""
    shown = visible_name(name)
    stored = Path(piece.stored_path or "").name
    real = Path(stored).suffix.lower()
    if shown == name and (not stored or name.lower().endswith(real)):
        return shown
    kind = f"fichier {real}" if real else "fichier sans extension"
    return f"{shown} ({kind}, enregistré sous « {stored} »)"
