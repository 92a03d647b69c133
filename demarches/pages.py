"""The pages every installation publishes, reachable without login from every page's footer:
the accessibility statement, the legal notice, the personal-data notice and the site map.

Their text is the installation's (PortalPage, edited in the administration) as plain text, which
`render_text` turns into paragraphs, headings, lists and links, escaping everything else: no
HTML from the database ever reaches a page. Until the installation writes one, the portal shows
its own draft (templates/pages/defaults/), filled with what it knows: the organisation, the
settings' retention periods, the accessibility level.
"""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import groupby

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from demarches import installation
from demarches.models import Demarche, PortalPage

Slug = PortalPage.Slug
TITLES = {
    Slug.ACCESSIBILITY: "Déclaration d'accessibilité",
    Slug.LEGAL: "Mentions légales",
    Slug.PRIVACY: "Données personnelles",
}
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def _inline(line: str) -> str:
    # urlize escapes what is not an address (autoescape=True); it links http(s), www. and
    # e-mail addresses only, never javascript: or data:.
    return urlize(line.strip(), autoescape=True)


def render_text(text: str) -> SafeString:
    """Plain text → HTML: blank lines separate blocks; a block's first line « ## Titre » (or
    « ### ») is a heading; lines starting with « - » make a list; other lines a paragraph whose
    line breaks are kept."""
    parts: list[str] = []
    for block in _BLANK_LINES.split(text.replace("\r\n", "\n").strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        heading = re.match(r"^(#{2,3}) +(.+)$", lines[0].strip()) if lines else None
        if heading:
            level = len(heading.group(1))
            parts.append(f"<h{level}>{escape(heading.group(2).strip())}</h{level}>")
            lines = lines[1:]
        # Within a block, consecutive « - » lines make a list, the other lines a paragraph.
        for is_item, run in groupby(lines, key=lambda line: line.lstrip().startswith("- ")):
            if is_item:
                items = "".join(f"<li>{_inline(line.lstrip()[2:])}</li>" for line in run)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append("<p>" + "<br>".join(_inline(line) for line in run) + "</p>")
    return mark_safe("\n".join(parts))  # noqa: S308  (every piece escaped above)


def _months(value: int) -> str:
    return f"{value} mois"


def default_context() -> dict:
    """What the default drafts say about this installation (also the admin's initial text)."""
    portal = installation.current()
    demarches = list(
        Demarche.objects.filter(enabled=True)
        .order_by("name")
        .values_list("name", "retention_months", "organisation__name")
    )
    return {
        "portal": portal,
        "base_url": settings.PORTAL_BASE_URL,
        "accessibility": settings.PORTAL_ACCESSIBILITY,
        "accessibility_rate": settings.PORTAL_ACCESSIBILITY_RATE,
        "demarches": [(name, _months(months), org) for name, months, org in demarches],
        "audit_months": settings.AUDIT_RETENTION_MONTHS,
        "session_days": timedelta(seconds=settings.SESSION_COOKIE_AGE).days,
        "link_days": timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT).days,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "login_log_months": settings.LOGIN_LOG_RETENTION_MONTHS,
        "contact": portal.contact or "[adresse de contact du service à indiquer]",
        "dpo": portal.dpo_contact or "[contact du délégué à la protection des données à indiquer]",
        "organisation": "[nom de l'organisation]" if portal.is_product else portal.name,
    }


def default_text(slug: str) -> str:
    return render_to_string(f"pages/defaults/{slug}.txt", default_context())


@login_not_required
@require_GET
def published(request: HttpRequest, slug: str) -> HttpResponse:
    """One of the three pages (hubee_portal/urls.py gives its slug)."""
    row = PortalPage.objects.filter(slug=slug).values_list("pk", "text").first()
    written = row[1] if row else None
    context = {
        "title": TITLES[slug],
        "body": render_text(written if written is not None else default_text(slug)),
        "is_default": written is None,
        "slug": slug,
    }
    if request.user.is_staff:
        context["edit_url"] = (
            reverse("admin:demarches_portalpage_change", args=[row[0]])
            if row
            else reverse("admin:demarches_portalpage_add") + f"?slug={slug}"
        )
    return render(request, "pages/page.html", context)


@login_not_required
@require_GET
def sitemap(request: HttpRequest) -> HttpResponse:
    """The pages this user may reach, as links (RGAA 12.1: a second way to find them)."""
    user = request.user
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    if user.is_authenticated:
        sections.append(
            (
                "Traitement des dossiers",
                [
                    ("Tableau de bord", reverse("home")),
                    ("Dossiers", reverse("dossiers:list")),
                    ("Statistiques", reverse("dossiers:statistics")),
                    ("Mes alertes", reverse("preferences")),
                ],
            )
        )
        if user.is_staff:
            staff = [
                ("État du portail", reverse("operations")),
                ("Administration", reverse("admin:index")),
            ]
            if settings.HUBEE_SANDBOX:
                staff.append(("Simulateur HubEE — côté opérateur", reverse("sandbox:osl-home")))
            sections.append(("Administration technique", staff))
    else:
        sections.append(
            (
                "Compte",
                [
                    ("Connexion", reverse("login")),
                    ("Mot de passe oublié", reverse("password_reset")),
                ],
            )
        )
    sections.append(
        (
            "Informations",
            [
                (TITLES[Slug.ACCESSIBILITY], reverse("accessibility")),
                (TITLES[Slug.LEGAL], reverse("legal")),
                (TITLES[Slug.PRIVACY], reverse("privacy")),
                ("Plan du site", reverse("sitemap")),
            ],
        )
    )
    return render(request, "pages/sitemap.html", {"sections": sections})
