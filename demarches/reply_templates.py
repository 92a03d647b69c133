"""Reply templates: the fixed placeholders and their plain-text replacement.

Never str.format nor a template engine: an agent-facing text is filled by replacing the known
tokens in one pass, so a value that itself contains « {nom} » stays as it is. demarches never
imports dossiers: the values come in as a mapping (see values()).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from django.db import models
from django.utils import timezone

# HubEE's limit on an event's message (API.md §4.5); dossiers.records.actions.MAX_MESSAGE too.
MAX_MESSAGE = 1000
NBSP = "\u00a0"

PLACEHOLDERS: dict[str, str] = {
    "{prenom}": "prénom de l'usager",
    "{nom}": "nom de l'usager",
    "{numero}": "numéro du télédossier",
    "{demarche}": "nom de la démarche",
    "{date_depot}": "date de dépôt, jj/mm/aaaa",
}

# Anything that looks like a placeholder; the unknown ones are refused when saving.
CANDIDATE = re.compile(r"\{[^{}]*\}")
_KNOWN = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS))


class Purpose(models.TextChoices):
    ALL = "all", "Tous les messages"
    MESSAGE = "message", "Message à l'usager"
    COMPLEMENT = "complement", "Demande de complément"
    REFUSAL = "refusal", "Refus"


def placeholders_help() -> str:
    """« {prenom} (prénom de l'usager), {nom} (…) » for help texts and errors."""
    return ", ".join(f"{token} ({meaning})" for token, meaning in PLACEHOLDERS.items())


def find_unknown(text: str) -> list[str]:
    """The brace groups of `text` that are no placeholder, in order, each once."""
    unknown: list[str] = []
    for match in CANDIDATE.finditer(text):
        token = match.group(0)
        if token not in PLACEHOLDERS and token not in unknown:
            unknown.append(token)
    return unknown


def deposit_date(moment: datetime | None) -> str:
    """dd/mm/yyyy in the portal's time zone; empty when unknown."""
    if moment is None:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%d/%m/%Y")


def values(
    *,
    first_name: str,
    last_name: str,
    number: str,
    demarche: str,
    deposited_at: datetime | None,
) -> dict[str, str]:
    """The replacement of each placeholder for one dossier."""
    return {
        "{prenom}": first_name,
        "{nom}": last_name,
        "{numero}": number,
        "{demarche}": demarche,
        "{date_depot}": deposit_date(deposited_at),
    }


def expand(text: str, replacements: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value, in a single pass: a value is
    never expanded again; an unknown brace group is left as it is."""
    return _KNOWN.sub(lambda match: str(replacements.get(match.group(0), match.group(0))), text)


def static_length(text: str) -> int:
    """The length of `text` without its placeholders: what no value can shorten."""
    return len(_KNOWN.sub("", text))


def grouped(number: int) -> str:
    """« 1 180 » with a no-break space, as the portal writes numbers."""
    return f"{number:,}".replace(",", NBSP)


def length_problem(text: str) -> str | None:
    """Why HubEE would refuse `text` as a message for its length, in French; None if it fits."""
    if len(text) <= MAX_MESSAGE:
        return None
    return (
        f"Le message fait {grouped(len(text))} caractères : HubEE en accepte "
        f"{grouped(MAX_MESSAGE)} au plus. Raccourcissez-le."
    )
