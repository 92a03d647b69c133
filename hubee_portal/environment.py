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


def accessibility(level: str, rate: int) -> tuple[str, int]:
    """PORTAL_ACCESSIBILITY and its rate, or ImproperlyConfigured saying what is accepted."""
    if level not in ("non conforme", "partiellement conforme", "totalement conforme"):
        raise ImproperlyConfigured(
            "PORTAL_ACCESSIBILITY vaut « non conforme » (par défaut, sans audit), « partiellement "
            f"conforme » ou « totalement conforme », pas {level!r}."
        )
    if level == "partiellement conforme" and not 50 <= rate < 100:
        raise ImproperlyConfigured(
            "« partiellement conforme » demande PORTAL_ACCESSIBILITY_RATE, le taux de critères "
            "RGAA respectés mesuré par l'audit (de 50 à 99)."
        )
    return level, rate


def tag(value: str) -> str:
    """« [RECETTE] » and a space for that environment; nothing in production."""
    label = ENVIRONMENTS[value][1]
    return f"[{label}] " if label else ""


def banner() -> str:
    """The banner's text; empty in production."""
    return ENVIRONMENTS[settings.PORTAL_ENVIRONMENT][0]


def subject_prefix() -> str:
    """« [RECETTE] » and a space outside production, else nothing."""
    return tag(settings.PORTAL_ENVIRONMENT)


def subject(text: str) -> str:
    """An e-mail subject, tagged « [RECETTE] … » outside production."""
    return subject_prefix() + text
