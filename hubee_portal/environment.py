"""Which environment this installation is (settings.PORTAL_ENVIRONMENT), so that a demo or a
recette is never mistaken for production: a banner on every page, a tag on every e-mail's
subject. Read by the settings (validation) and the templates; no model here."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PRODUCTION = "production"
# value → (banner shown on every page, tag of e-mail subjects); production has neither.
ENVIRONMENTS: dict[str, tuple[str, str]] = {
    PRODUCTION: ("", ""),
    "preproduction": ("PRÉPRODUCTION — ne pas traiter de vrais dossiers ici", "PRÉPRODUCTION"),
    "recette": ("RECETTE — environnement de test, ne pas traiter de vrais dossiers", "RECETTE"),
    "demonstration": ("DÉMONSTRATION — BAC À SABLE, données fictives", "DÉMONSTRATION"),
}


def validated(value: str) -> str:
    """The value of PORTAL_ENVIRONMENT, or ImproperlyConfigured saying what is accepted."""
    if value not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"PORTAL_ENVIRONMENT vaut production, preproduction, recette ou demonstration, pas "
            f"{value!r} : indiquez dans le .env l'environnement de cette installation."
        )
    return value


def banner() -> str:
    """The banner's text; empty in production."""
    return ENVIRONMENTS[settings.PORTAL_ENVIRONMENT][0]


def subject_prefix() -> str:
    """« [RECETTE] » and a space outside production, else nothing."""
    tag = ENVIRONMENTS[settings.PORTAL_ENVIRONMENT][1]
    return f"[{tag}] " if tag else ""


def subject(text: str) -> str:
    """An e-mail subject, tagged « [RECETTE] … » outside production."""
    return subject_prefix() + text
