"""Whose portal this is: the name and logo shown in the header, the page titles and the e-mails.

PORTAL_NAME / PORTAL_LOGO (an installation serving several organisations) win; otherwise the
one Organisation's name and logo; otherwise the product's name. Read once a minute per process
(and again after an Organisation is saved here), so that no page pays a query for it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.http import require_GET

from demarches import logo as logos
from demarches.models import Organisation
from hubee_portal import PRODUCT_NAME, environment

CACHE_KEY = "portal-identity"
CACHE_SECONDS = 60


@dataclass(frozen=True)
class Identity:
    name: str  # the installation's: a commune's name, PORTAL_NAME, or the product's
    logo_version: str  # in the logo's URL, so that a new logo is never a cached old one
    contact: str
    dpo_contact: str
    product: str = PRODUCT_NAME

    @property
    def is_product(self) -> bool:
        return self.name == PRODUCT_NAME

    @property
    def full_name(self) -> str:
        """« Mairie de Nice — Portail de réception HubEE » (e-mails, the header's label)."""
        return self.name if self.is_product else f"{self.name} — {self.product}"


def product_identity() -> Identity:
    """Without an Organisation (or with several): the product's name, no logo."""
    return Identity(PRODUCT_NAME, "", settings.PORTAL_CONTACT, settings.PORTAL_DPO_CONTACT)


def _read() -> Identity:
    if settings.PORTAL_NAME:
        return Identity(
            name=settings.PORTAL_NAME,
            logo_version="reglage" if settings.PORTAL_LOGO else "",
            contact=settings.PORTAL_CONTACT,
            dpo_contact=settings.PORTAL_DPO_CONTACT,
        )
    try:
        rows = list(
            Organisation.objects.order_by("pk").values(
                "name", "logo_type", "updated_at", "contact", "dpo_contact"
            )[:2]
        )
    except DatabaseError:
        # Before the first migrate (or the database is what fails): still a page to show.
        return product_identity()
    if len(rows) != 1:
        return product_identity()
    row = rows[0]
    return Identity(
        name=row["name"],
        logo_version=f"{row['updated_at']:%Y%m%d%H%M%S%f}" if row["logo_type"] else "",
        contact=row["contact"] or settings.PORTAL_CONTACT,
        dpo_contact=row["dpo_contact"] or settings.PORTAL_DPO_CONTACT,
    )


def current() -> Identity:
    found = cache.get(CACHE_KEY)
    if found is None:
        found = _read()
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return found


def refresh() -> None:
    cache.set(CACHE_KEY, _read(), CACHE_SECONDS)


# Read again at once, not on the next page: no page pays the query after a change here (other
# processes see it within CACHE_SECONDS).
@receiver(post_save, sender=Organisation)
@receiver(post_delete, sender=Organisation)
def _changed(**kwargs) -> None:
    refresh()


@receiver(setting_changed)
def _setting_changed(setting: str, **kwargs) -> None:
    if setting.startswith("PORTAL_"):
        cache.delete(CACHE_KEY)


def accessibility_mention() -> str:
    """« Accessibilité : partiellement conforme (62 %) », as on every page's footer."""
    level = settings.PORTAL_ACCESSIBILITY
    if level == "partiellement conforme":
        return f"Accessibilité : {level} ({settings.PORTAL_ACCESSIBILITY_RATE} %)"
    return f"Accessibilité : {level}"


def context(request: HttpRequest) -> dict:
    """Template context processor: `portal`, `environment_banner`, `accessibility_mention`."""
    return {
        "portal": current(),
        "environment_banner": environment.banner(),
        "accessibility_mention": accessibility_mention(),
        "sandbox_enabled": settings.HUBEE_SANDBOX,
    }


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the environment banner and the footer, but nothing read from the
    database (it may be what failed)."""
    page = loader.get_template("500.html").render(
        {
            "environment_banner": environment.banner(),
            "accessibility_mention": accessibility_mention(),
        }
    )
    return HttpResponseServerError(page)


@functools.cache
def _setting_logo(path: str) -> logos.Logo:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"PORTAL_LOGO : le fichier {path} est illisible ({exc})."
        ) from exc
    try:
        return logos.reencode(data)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"PORTAL_LOGO ({path}) : {exc.messages[0]}") from exc


def logo_of_installation() -> logos.Logo | None:
    if settings.PORTAL_NAME:
        return _setting_logo(settings.PORTAL_LOGO) if settings.PORTAL_LOGO else None
    rows = list(Organisation.objects.order_by("pk").values("logo", "logo_type")[:2])
    if len(rows) != 1 or not rows[0]["logo_type"]:
        return None
    return logos.Logo(bytes(rows[0]["logo"]), rows[0]["logo_type"])


@login_not_required  # shown on the login page too
@require_GET
def logo_view(request: HttpRequest, version: str) -> HttpResponse:
    found = logo_of_installation()
    if found is None:
        raise Http404("Aucun logo.")
    response = HttpResponse(found.content, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # The version is in the URL: a new logo has a new address.
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Disposition"] = 'inline; filename="logo"'
    return response
