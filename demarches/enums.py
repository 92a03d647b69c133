"""HubEE vocabularies (API.md §6)."""

from django.db import models

from hubee_portal.choices import CaseStatus  # the one derivation of the protocol's vocabulary


class AutomaticStatus(models.TextChoices):
    """Status pushed as soon as a dossier is stored (the official `statusMinimal`)."""

    NONE = "", "Aucun"
    SENT = CaseStatus.SENT.value, "Transmis (SENT)"
    SI_RECEIVED = CaseStatus.SI_RECEIVED.value, "Reçu (SI_RECEIVED)"
    IN_PROGRESS = CaseStatus.IN_PROGRESS.value, "En cours (IN_PROGRESS)"


class FinalStatus(models.TextChoices):
    DONE = CaseStatus.DONE.value, "Traité (DONE)"
    REFUSED = CaseStatus.REFUSED.value, "Refusé (REFUSED)"


class Environment(models.TextChoices):
    PREPRODUCTION = "preproduction", "Préproduction (bas)"
    RECETTE = "recette", "Recette (basrec)"
    PRODUCTION = "production", "Production"
    CUSTOM = "autre", "Autre (URL saisies)"


# API.md §2.1: token URL and API base per environment.
ENVIRONMENT_URLS: dict[str, tuple[str, str]] = {
    Environment.PREPRODUCTION: (
        "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token",
        "https://api.bas.hubee.numerique.gouv.fr",
    ),
    Environment.RECETTE: (
        "https://auth.basrec.hubee.numerique.gouv.fr/oauth2/token",
        "https://api.basrec.hubee.numerique.gouv.fr",
    ),
    Environment.PRODUCTION: (
        "https://auth.hubee.numerique.gouv.fr/oauth2/token",
        "https://api.hubee.numerique.gouv.fr",
    ),
}


def environment_for_urls(token_url: str, api_url: str) -> str:
    for environment, (token, api) in ENVIRONMENT_URLS.items():
        if token_url.rstrip("/") == token and api_url.rstrip("/") == api:
            return environment
    return Environment.CUSTOM
