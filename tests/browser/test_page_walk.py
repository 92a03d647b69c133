"""The page walk (issue 14): every page of the URLconf that a logged-in user can reach — agent,
staff, sandbox — at 1280×800, 320×800 and 320×256, each checked for HTTP 200, no console, JS or
CSP error, no serious or critical axe violation, no horizontal overflow and no element outside
the viewport unless inside a labelled scroll region; then the same pages under the WCAG text
spacing; then each action form submitted once and the page it lands on checked again. The
Django admin pages are measured the same way, in a test of their own that reports without
failing (their failures go to the accessibility statement); it fails only on a 500.

A new URL pattern is walked by construction: its name must be given visits in PAGES, or be
listed with a reason in NOT_PAGES, or the walk fails with « page non couverte par la visite ».

Each test seeds its data (about 2 s) and logs its users in once, then reuses their browser
contexts for all its pages. The tests are transactional like the other browser tests: a seed
kept for the module would need a non-transactional test, whose transaction (the portal's SQLite
runs in IMMEDIATE mode) would hold the write lock and block the live server, or a way around
pytest-django's flush after each transactional test.
It runs in the SQLite pass of .ci/run only (ONLY_SQLITE skips it when the database vendor is
not sqlite, as in the pass where DATABASE_URL names PostgreSQL): pages do not depend on it.
"""

from __future__ import annotations

import os
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import Page

from demarches import installation, invitations
from demarches.models import ReplyTemplate
from demarches.proconnect import config as proconnect_config
from dossiers.enums import AuditAction
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Dossier, Incident, NotificationFailure, OutgoingEvent, PurgeRun
from dossiers.operations import health
from dossiers.operations.integrity import verify_demarche
from dossiers.records import alerts, audit
from hubee_portal import environment, second_factor
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.content import identity_scan, make_pdf
from tests.browser.page_walk import (
    SIZES,
    Failures,
    Session,
    add_csp,
    check_page,
    check_text_spacing,
    invisible_focus,
    size_label,
    url_names,
)
from tests.browser.test_browser_agent import RULES, live_portal
from tests.conftest import login_staff, totp_token
from tests.dossiers.conftest import pdf_bytes
from tests.factories import AdminFactory, DemarcheFactory, UserFactory, agent_for

ONLY_SQLITE = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="la visite des pages tourne dans la passe SQLite de .ci/run seulement : "
    "les pages ne dépendent pas du moteur de base de données",
)

AGENT, SUPERUSER, TECH_ADMIN, ANONYMOUS = "agent.nice", "admin", "admin.technique", ""
# Staff logged in by password only: one to enrol (no device yet), one to verify (a device).
ENROLLING, VERIFYING = "admin.nouveau", "admin.verification"
PASSWORD_ONLY = {ENROLLING, VERIFYING}

# Not pages, with the reason. POST endpoints are submitted by test_page_walk_action_forms.
SUBMITTED = "POST seulement : soumis par test_page_walk_action_forms"
NOT_PAGES = {
    "healthz": "JSON pour les outils de supervision",
    "favicon": "redirection vers l'icône (portal/favicon.svg)",
    "portal-logo": "image du logo de l'installation (PNG ou JPEG), montrée dans l'en-tête",
    "logout": "POST seulement (bouton « Se déconnecter »)",
    "sync-now": SUBMITTED,
    "dossiers:export": "téléchargement CSV",
    "dossiers:statistics-csv": "téléchargement CSV des statistiques",
    "dossiers:download": "téléchargement d'une pièce",
    "dossiers:download-all": "téléchargement ZIP",
    "dossiers:preview-image": "image d'un aperçu (PNG ou JPEG), montrée par dossiers:preview",
    "dossiers:retry": SUBMITTED,
    "dossiers:take": SUBMITTED,
    "dossiers:assign": SUBMITTED,
    "dossiers:release": SUBMITTED,
    "dossiers:note": SUBMITTED,
    "dossiers:follow": "parties vivantes de dossiers:detail (portal.js), parcourues avec elle "
    "sur le dossier dont un envoi attend",
    "sandbox:osl-retention": SUBMITTED,
    "sandbox:osl-documents": SUBMITTED,
    "sandbox:osl-message": SUBMITTED,
    "sandbox:osl-close": SUBMITTED,
    "sandbox:osl-purge": SUBMITTED,
    "sandbox:osl-acknowledge": SUBMITTED,
    "sandbox:osl-attachment": "téléchargement d'un fichier du bac à sable",
    "sandbox:token": "API OAuth du faux HubEE (JSON)",
    "sandbox:notifications": "API du faux HubEE (JSON)",
    "sandbox:notification": "API du faux HubEE (JSON)",
    "sandbox:case": "API du faux HubEE (JSON)",
    "sandbox:case-attachment": "API du faux HubEE (fichier)",
    "sandbox:events": "API du faux HubEE (JSON)",
    "sandbox:event": "API du faux HubEE (JSON)",
    "sandbox:event-attachment": "API du faux HubEE (fichier)",
    "proconnect-login": "redirection vers ProConnect",
    "proconnect-step-up": "redirection vers ProConnect (second facteur demandé)",
    "proconnect-logged-out": "retour de la déconnexion de ProConnect : redirection",
    "oidc_authentication_callback": "retour de ProConnect : redirection (tableau de bord ou refus)",
    "oidc_logout": "POST seulement (bouton « Se connecter avec un autre compte ProConnect »)",
    "sandbox:proconnect-discovery": "API du faux ProConnect (JSON)",
    "sandbox:proconnect-token": "API du faux ProConnect (JSON)",
    "sandbox:proconnect-userinfo": "API du faux ProConnect (JWT)",
    "sandbox:proconnect-jwks": "API du faux ProConnect (JSON)",
    "sandbox:proconnect-end-session": "déconnexion du faux ProConnect : redirection",
}
# The Django admin's own names that are no page; the others are walked by the admin test.
ADMIN_NOT_PAGES = {
    "admin:login": "le portail se connecte par /connexion/ ; connecté, la page redirige",
    "admin:logout": "POST seulement",
    "admin:jsi18n": "JavaScript des traductions",
    "admin:autocomplete": "JSON de l'autocomplétion",
    "admin:view_on_site": "redirection vers la page de l'objet",
}
ADMIN_PAGES = {
    "admin:index",
    "admin:app_list",
    "admin:password_change",
    "admin:password_change_done",
    "admin:auth_user_password_change",
}
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "history", "delete")


@dataclass
class Seed:
    url: str
    dossier: int  # deposited with PDF, XML and a CORRUPTED file, a message, a failed push
    xml: int
    case: str  # the same dossier, as the sandbox holds it
    subscription: str
    pdf: int = 0  # a readable PDF of the same dossier (its preview shows pages)
    scan: int = 0  # a JPEG scan of the same dossier
    by_action: dict[str, int] = field(default_factory=dict)  # a fresh dossier per status change
    spare_cases: list[str] = field(default_factory=list)  # sandbox cases to close and purge
    generated: int = 0  # an EtatCivil dossier with the sandbox's real-shaped flux
    certdc: int = 0  # a CERTDC dossier: « La demande » with its sensitive section
    waiting: int = 0  # a dossier whose decision waits to be sent: the page follows it


@dataclass(frozen=True)
class Visit:
    user: str
    path: str
    label: str
    status: int = 200


def _bulk_query(action: str, *dossiers: int) -> str:
    return f"?action={action}" + "".join(f"&dossier={pk}" for pk in dossiers)


def _one(user: str, name: str, *args, query: str = "", status: int = 200) -> Visit:
    path = reverse(name, args=args) + query
    return Visit(user, path, f"{name} {path}" + (f" ({user})" if user else " (anonyme)"), status)


def _demarche_of(dossier: int) -> int:
    return Dossier.objects.values_list("demarche_id", flat=True).get(pk=dossier)


def _invitation_path(username: str = "agent.collegue") -> str:
    """The link of an invitation e-mail (demarches.invitations), for an account of the seed."""
    user = get_user_model().objects.get(username=username)
    return invitations.password_link(user).removeprefix(settings.PORTAL_BASE_URL)


def _authorize_path(seed: Seed, mfa: bool = False) -> str:
    """The fake ProConnect's page, as the portal's « S'identifier avec ProConnect » opens it."""
    params = {
        "response_type": "code",
        "client_id": settings.PROCONNECT_CLIENT_ID,
        "redirect_uri": seed.url + reverse("oidc_authentication_callback"),
        "scope": settings.OIDC_RP_SCOPES,
        "state": "s" * 32,
        "nonce": "n" * 32,
        **(proconnect_config.step_up_params() if mfa else proconnect_config.login_params()),
    }
    return reverse("sandbox:proconnect-authorize") + "?" + urlencode(params)


# Every page of the URLconf, with the visits that fill its parameters from the seeded data.
PAGES: dict[str, Callable[[Seed], list[Visit]]] = {
    "home": lambda s: [_one(u, "home") for u in (AGENT, SUPERUSER, TECH_ADMIN)],
    "login": lambda s: [_one(ANONYMOUS, "login")],
    "password_reset": lambda s: [_one(ANONYMOUS, "password_reset")],
    "password_reset_done": lambda s: [_one(ANONYMOUS, "password_reset_done")],
    "password_reset_confirm": lambda s: [
        Visit(ANONYMOUS, _invitation_path(), "password_reset_confirm (lien d'invitation)"),
        _one(ANONYMOUS, "password_reset_confirm", "MQ", "lien-perime"),
    ],
    "password_reset_complete": lambda s: [_one(ANONYMOUS, "password_reset_complete")],
    "preferences": lambda s: [_one(AGENT, "preferences")],
    "second-factor-setup": lambda s: [_one(ENROLLING, "second-factor-setup", query="?next=/")],
    "second-factor-verify": lambda s: [
        _one(VERIFYING, "second-factor-verify", query="?next=/admin/")
    ],
    "second-factor-codes": lambda s: [_one(SUPERUSER, "second-factor-codes")],
    "dossiers:list": lambda s: [
        _one(AGENT, "dossiers:list"),
        _one(AGENT, "dossiers:list", query="?q=zzz-aucun"),
        _one(AGENT, "dossiers:list", query="?non_lus=on&file=a-traiter"),
        _one(AGENT, "dossiers:list", query="?attribue=moi"),
        _one(AGENT, "dossiers:list", query="?statut_hubee=HUBEE_NOTIFIED&tout=1"),  # opened
        _one(AGENT, "dossiers:list", query="?message=nouveau&envoi=refuse&attribue=personne"),
    ],
    "dossiers:bulk": lambda s: [
        _one(AGENT, "dossiers:bulk", query=_bulk_query("traiter", s.dossier, s.waiting)),
        _one(AGENT, "dossiers:bulk", query=_bulk_query("refuser", *s.by_action.values())),
        _one(AGENT, "dossiers:bulk", query=_bulk_query("je-m-en-occupe", s.dossier)),
        _one(AGENT, "dossiers:bulk", query=_bulk_query("confier", s.dossier), status=400),
    ],
    "dossiers:bulk-result": lambda s: [_one(AGENT, "dossiers:bulk-result")],
    "dossiers:detail": lambda s: [
        _one(AGENT, "dossiers:detail", s.dossier),
        _one(AGENT, "dossiers:detail", 999999, status=404),
        _one(AGENT, "dossiers:detail", s.generated),
        _one(AGENT, "dossiers:detail", s.certdc),
        _one(AGENT, "dossiers:detail", s.certdc, query="?sensible=1"),  # audited opening
        _one(AGENT, "dossiers:detail", s.waiting),  # polls dossiers:follow meanwhile
    ],
    "dossiers:piece-fields": lambda s: [_one(AGENT, "dossiers:piece-fields", s.dossier, s.xml)],
    "dossiers:preview": lambda s: [
        _one(AGENT, "dossiers:preview", s.dossier, s.pdf),
        _one(AGENT, "dossiers:preview", s.dossier, s.scan),
        _one(AGENT, "dossiers:preview", s.dossier, s.xml, status=404),  # no preview of XML
    ],
    "dossiers:action": lambda s: [
        _one(AGENT, "dossiers:action", s.dossier, slug)
        for slug in (
            "prendre-en-charge",
            "demander-complement",
            "traiter",
            "refuser",
            "message",
            "renvoyer-documents",
        )
    ],
    "dossiers:statistics": lambda s: [_one(u, "dossiers:statistics") for u in (AGENT, TECH_ADMIN)],
    "dossiers:statistics-demarche": lambda s: [
        _one(AGENT, "dossiers:statistics-demarche", _demarche_of(s.dossier)),
        _one(AGENT, "dossiers:statistics-demarche", _demarche_of(s.certdc), query="?semaines=52"),
        _one(SUPERUSER, "dossiers:statistics-demarche", _demarche_of(s.dossier)),
        _one(TECH_ADMIN, "dossiers:statistics-demarche", _demarche_of(s.dossier), status=404),
    ],
    "operations": lambda s: [_one(u, "operations") for u in (SUPERUSER, TECH_ADMIN)],
    "sandbox:osl-home": lambda s: [_one(SUPERUSER, "sandbox:osl-home")],
    "sandbox:osl-faults": lambda s: [_one(SUPERUSER, "sandbox:osl-faults")],
    "sandbox:osl-purge-rules": lambda s: [_one(SUPERUSER, "sandbox:osl-purge-rules")],
    "sandbox:osl-deposit": lambda s: [_one(SUPERUSER, "sandbox:osl-deposit", s.subscription)],
    "sandbox:osl-case": lambda s: [_one(SUPERUSER, "sandbox:osl-case", s.case)],
    "proconnect-refused": lambda s: [
        _one(ANONYMOUS, "proconnect-refused", reason) for reason in ("compte-inconnu", "annulee")
    ],
    "sandbox:proconnect-authorize": lambda s: [
        Visit(ANONYMOUS, _authorize_path(s), "sandbox:proconnect-authorize (identités de test)"),
        Visit(
            ANONYMOUS,
            _authorize_path(s, mfa=True),
            "sandbox:proconnect-authorize (double authentification exigée)",
        ),
    ],
    # Published pages (issue 21): without login, and as the agent and staff see them.
    "accessibility": lambda s: [_one(ANONYMOUS, "accessibility"), _one(SUPERUSER, "accessibility")],
    "legal": lambda s: [_one(ANONYMOUS, "legal")],
    "privacy": lambda s: [_one(ANONYMOUS, "privacy"), _one(AGENT, "privacy")],
    "sitemap": lambda s: [_one(u, "sitemap") for u in (ANONYMOUS, AGENT, SUPERUSER)],
}

# On every page (issue 21): the footer's links, and outside production the environment banner.
FOOTER_LINKS = {
    "Accessibilité : ": "accessibility",
    "Mentions légales": "legal",
    "Données personnelles": "privacy",
    "Plan du site": "sitemap",
}


def chrome_failures(page: Page) -> list[str]:
    """What the footer or the banner lacks on the page as it is now."""
    problems = []
    footer = page.get_by_role("contentinfo").get_by_role("navigation", name="Pied de page")
    for name, url_name in FOOTER_LINKS.items():
        link = footer.get_by_role("link", name=re.compile("^" + re.escape(name)))
        if link.count() != 1 or link.get_attribute("href") != reverse(url_name):
            problems.append(f"lien « {name.strip(' :')} » absent du pied de page")
    banner_text = environment.banner()
    if banner_text:
        banner = page.get_by_role("region", name="Environnement")
        if banner.count() != 1 or banner_text not in banner.inner_text():
            problems.append(f"bandeau « {banner_text} » absent")
    return problems


def admin_model_names() -> set[str]:
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
        for model in admin.site._registry
        for view in ADMIN_MODEL_VIEWS
    }


def coverage_failures() -> list[str]:
    names = set(url_names())
    admin_names = admin_model_names() | ADMIN_PAGES | set(ADMIN_NOT_PAGES)
    known = set(PAGES) | set(NOT_PAGES) | admin_names
    problems = [f"page non couverte par la visite : {name}" for name in sorted(names - known)]
    stale = (set(PAGES) | set(NOT_PAGES) | ADMIN_PAGES | set(ADMIN_NOT_PAGES)) - names
    if not settings.HUBEE_SANDBOX:  # its URLs exist only with the sandbox on
        stale = {name for name in stale if not name.startswith("sandbox:")}
    problems += [f"entrée de la visite sans motif d'URL : {name}" for name in sorted(stale)]
    return problems


def test_every_url_pattern_is_walked_or_listed():
    """Fast and without a browser: a new URL name must be given visits or a reason."""
    assert not coverage_failures(), "\n".join(coverage_failures())


# -- the seeded portal ---------------------------------------------------------------------------


@pytest.fixture
def walk(live_server, tmp_path) -> Seed:
    return _seed(live_server, tmp_path)


@pytest.fixture
def strict_csp(live_server):
    undo = add_csp(live_server)
    yield
    undo()


def _seed(server, folder: Path) -> Seed:
    portal = live_portal(server, folder)
    xml = b"<Demande><Nom>Lefebvre</Nom><Adresse><Ville>Nice</Ville></Adresse></Demande>"
    rich = portal.deposit(
        applicant={"firstName": "Camille", "lastName": "Lefebvre", "email": "camille@ex.fr"},
        files=[
            ("acte-naissance.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("acte")),
            ("demande.xml", "ActeEtatCivil-XML", "application/xml", xml),
            (
                "justificatif-de-domicile-facture-electricite-2024.pdf",
                "ActeEtatCivil-PDF",
                "application/pdf",
                pdf_bytes("justificatif"),
            ),
            ("virus.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("v"), "CORRUPTED"),
            ("releve.pdf", "ActeEtatCivil-PDF", "application/pdf", make_pdf("Relevé", ["x"] * 80)),
            ("scan-identite.jpg", "scan", "image/jpeg", identity_scan(random.Random(1))),
        ],
    )
    slugs = ("prendre-en-charge", "demander-complement", "traiter", "refuser")
    others = {
        slug: portal.deposit(applicant={"firstName": "Alex", "lastName": slug}) for slug in slugs
    }
    generated = sandbox.deposit_generated_case(portal.demarche.subscription, seed=8)
    portal.sync()
    sandbox.osl_message(rich, "Une précision de l'usager : je serai absent en août.")
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=rich.id)
    OutgoingEvent.objects.create(
        dossier=dossier,
        action_type="SENDING_MESSAGE",
        message="Votre dossier est complet.",
        author="Dominique Agent",
        state="failed",
        failure="refused",
        last_error="HubEE a refusé la requête (400) : message trop long.",
    )
    # Reply templates: the message, complement and refusal forms show their list and button.
    for name, purpose in (("Acte envoyé", "all"), ("Refus : demande incomplète", "refusal")):
        ReplyTemplate.objects.create(
            demarche=portal.demarche,
            name=name,
            purpose=purpose,
            text="Bonjour {prenom} {nom},\n\nVotre demande n° {numero} du {date_depot} …",
        )
    superuser = AdminFactory()
    UserFactory(username=TECH_ADMIN, is_staff=True, first_name="Claude", last_name="Technique")
    UserFactory(username=ENROLLING, is_staff=True)
    totp_token(UserFactory(username=VERIFYING, is_staff=True))  # enrolled: a device
    second_factor.new_recovery_codes(superuser)
    agent_for(portal.demarche, username="agent.collegue", first_name="Sam", last_name="Collègue")
    # What the staff pages and the admin show: a health beat, an integrity check, a failed
    # notification, an incident, a purge run, audit entries, an alert preference.
    health.beat()
    verify_demarche(portal.demarche)
    NotificationFailure.objects.create(
        demarche=portal.demarche,
        notification_id="6f1c1d44-9a0b-4f7e-9c41-0d5c1e3c9a11",
        kind="transient",
        error="Délai dépassé en lisant le cas (30 s).",
        attempts=3,
    )
    Incident.objects.create(kind="sync", subject="EtatCivil", detail="Synchronisation en échec.")
    PurgeRun.objects.create(dossiers_purged=1, files_deleted=2, bytes_deleted=2048)
    audit.record(superuser, AuditAction.SYNC, detail="1 démarche(s)")
    alerts.preference_for(portal.agent)
    spare = [portal.deposit(applicant={"firstName": "Lou", "lastName": n}) for n in ("A", "B")]
    waiting = portal.deposit(applicant={"firstName": "Sacha", "lastName": "Attente"})
    portal.sync()
    waiting_dossier = Dossier.objects.get(hubee_case_id=waiting.id)
    # Queued, never delivered (no task runs it): the page shows it waiting and follows it.
    OutgoingEvent.objects.create(
        dossier=waiting_dossier,
        case_new_status="DONE",
        message="Votre acte vous a été envoyé.",
        author="Dominique Agent",
        created_by=portal.agent,
    )
    return Seed(
        url=server.url,
        dossier=dossier.pk,
        xml=dossier.pieces_jointes.get(file_name="demande.xml").pk,
        pdf=dossier.pieces_jointes.get(file_name="releve.pdf").pk,
        scan=dossier.pieces_jointes.get(file_name="scan-identite.jpg").pk,
        case=str(rich.id),
        subscription=str(portal.demarche.subscription.pk),
        by_action={
            slug: Dossier.objects.get(hubee_case_id=case.id).pk for slug, case in others.items()
        },
        spare_cases=[str(case.id) for case in spare],
        generated=Dossier.objects.get(hubee_case_id=generated.id).pk,
        certdc=_certdc_dossier(portal, folder),
        waiting=waiting_dossier.pk,
    )


def _certdc_dossier(portal, folder: Path) -> int:
    """A second démarche of the agent, CERTDC, with one generated death certificate."""
    subscription = sandbox.create_subscription(
        "CERTDC", "client-CERTDC", "secret-navigateur", **RULES
    )
    demarche = DemarcheFactory(
        name="Certificats de décès",
        process_code="CERTDC",
        connection=portal.demarche.connection,
        client_id="client-CERTDC",
        client_secret="secret-navigateur",
        download_folder=str(folder / "certdc"),
        automatic_status="SI_RECEIVED",
        **RULES,
    )
    demarche.agents.add(portal.agent)
    case = sandbox.deposit_generated_case(subscription, seed=4)
    sync_demarche(demarche)
    return Dossier.objects.get(hubee_case_id=case.id).pk


@pytest.fixture
def sessions(walk, browser, strict_csp):
    """One logged-in context per user, with the strict CSP, reused for all of a test's pages."""
    opened: dict[str, Session] = {}
    for user in (ANONYMOUS, AGENT, SUPERUSER, TECH_ADMIN, *sorted(PASSWORD_ONLY)):
        opened[user] = Session(browser, walk.url)
        if user:
            opened[user].log_in(user, second_factor=user not in PASSWORD_ONLY)
    yield opened
    for session in opened.values():
        session.close()


def _visits(seed: Seed) -> list[Visit]:
    names = set(url_names())
    return [visit for name in PAGES if name in names for visit in PAGES[name](seed)]


# -- the walk ------------------------------------------------------------------------------------


@pytest.mark.browser
@ONLY_SQLITE
@pytest.mark.django_db(transaction=True)
def test_page_walk(walk, sessions):
    failures = Failures()
    for problem in coverage_failures():
        failures.add("URLconf", "—", "couverture", problem)
    titles: dict[str, set[str]] = defaultdict(set)
    for visit in _visits(walk):
        session = sessions[visit.user]
        for size in SIZES:
            status = session.goto(visit.path, size)
            check_page(
                session, failures, visit.label, size, status=status, expected_status=visit.status
            )
            if size == SIZES[0] and visit.status == 200:
                # Once per page, at the desktop size: its title, and keyboard focus (10.7).
                titles[session.page.title()].add(visit.label.split(" ", 1)[0])
                for path in invisible_focus(session.page):
                    failures.add(visit.label, size_label(size), "focus invisible", path)
            if size == SIZES[0]:
                for problem in chrome_failures(session.page):
                    failures.add(visit.label, size_label(size), "pied de page / bandeau", problem)
    # Each page's title says where one is (RGAA 8.6), then whose portal it is (the one
    # organisation's name); two different pages never share one.
    portal_name = installation.current().name
    for title, names in titles.items():
        if not title.strip() or not title.endswith((f" — {portal_name}", f" | {portal_name}")):
            failures.add(", ".join(sorted(names)), "—", "titre", f"« {title} »")
        if len(names) > 1:
            failures.add(", ".join(sorted(names)), "—", "titre partagé", f"« {title} »")
    if failures:
        pytest.fail(failures.report("Visite des pages"), pytrace=False)


@pytest.mark.browser
@ONLY_SQLITE
@pytest.mark.django_db(transaction=True)
def test_page_walk_text_spacing(walk, browser):
    """WCAG 1.4.12 / RGAA 10.12 at 320×800; CSP bypassed in this test only, to inject the
    stylesheet."""
    failures = Failures()
    size = (320, 800)
    opened: dict[str, Session] = {}
    try:
        for visit in _visits(walk):
            if visit.user not in opened:
                opened[visit.user] = Session(browser, walk.url, bypass_csp=True)
                if visit.user:
                    opened[visit.user].log_in(
                        visit.user, second_factor=visit.user not in PASSWORD_ONLY
                    )
            session = opened[visit.user]
            status = session.goto(visit.path, size)
            if status != visit.status:
                failures.add(visit.label, size_label(size), "HTTP", f"statut {status}")
                continue
            check_text_spacing(session, failures, visit.label, size)
    finally:
        for session in opened.values():
            session.close()
    if failures:
        pytest.fail(failures.report("Espacement du texte (WCAG 1.4.12)"), pytrace=False)


# -- the action forms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """An action form submitted once: open `start`, fill the form, click; `announced` is the
    flash message the landing page must show inside a live region."""

    label: str
    posts: str  # the URL name the form posts to
    user: str
    start: Callable[[Seed], str]
    fill: Callable[[Page, Seed], object]  # returns the button to click
    announced: str | None
    status: int = 200


# A file input has the button role too: the submit button, by type.
SUBMIT = "button:not([type]), button[type=submit], input[type=submit]"
# The action's own button, not « Insérer le modèle » (a submit button too).
ACTION_SUBMIT = ", ".join(
    f"{each}:not([name=insert_template]):not([hidden])" for each in SUBMIT.split(", ")
)


def _form(page: Page, path: str):
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    return page.locator(f"form[action='{path}']")


def _agent_action(slug: str, message: str = "", files: bool = False):
    def fill(page: Page, seed: Seed):
        pk = seed.by_action.get(slug, seed.dossier)
        form = _form(page, reverse("dossiers:action", args=[pk, slug]))
        if message:
            form.locator("textarea").fill(message)
        if files:
            form.locator("input[type=file]").set_input_files(
                files=[
                    {
                        "name": "attestation.pdf",
                        "mimeType": "application/pdf",
                        "buffer": pdf_bytes("attestation"),
                    }
                ]
            )
        form.get_by_role("checkbox").check()
        return form.locator(ACTION_SUBMIT)

    return Submission(
        f"action « {slug} » (détail du dossier)",
        "dossiers:action",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.by_action.get(slug, s.dossier)]),
        fill,
        "en attente d'envoi à HubEE",
    )


def _refused_without_confirmation(page: Page, seed: Seed):
    form = page.locator("main form[method=post]").last
    form.evaluate("(f) => { f.noValidate = true; }")
    return form.get_by_role("button", name="Refuser la demande")


def _insert_template(page: Page, seed: Seed):
    page.get_by_label("Modèle de réponse").select_option(label="Acte envoyé")
    return page.get_by_role("button", name="Insérer le modèle")


def _preferences(page: Page, seed: Seed):
    page.locator("input[type=radio]:not(:checked)").first.check()
    return page.get_by_role("main").get_by_role("button", name="Enregistrer")


def _case_form(name: str, index: int = 0, text: str = ""):
    def fill(page: Page, seed: Seed):
        case = seed.spare_cases[index] if index >= 0 else seed.case
        form = _form(page, reverse(f"sandbox:{name}", args=[case]))
        if text:
            form.locator("textarea").fill(text)
        return form.locator(SUBMIT)

    return fill


def _acknowledge(page: Page, seed: Seed):
    return page.locator("form[action*='/accuser-reception/']").first.locator(SUBMIT)


def _button(name: str):
    return lambda page, seed: page.get_by_role("main").get_by_role("button", name=name)


def _retention(page: Page, seed: Seed):
    path = reverse("sandbox:osl-retention", args=[seed.subscription])
    return _form(page, path).locator(SUBMIT)


def _hand_over(page: Page, seed: Seed):
    form = page.locator("form.hand-over")
    form.get_by_label("Confier à").select_option(index=1)
    return form.locator(SUBMIT)


def _note(page: Page, seed: Seed):
    page.get_by_label("Note pour les agents de la démarche").fill("Rappeler l'usager jeudi.")
    return page.get_by_role("button", name="Ajouter la note")


def _case_page(index: int):
    return lambda s: reverse(
        "sandbox:osl-case", args=[s.spare_cases[index] if index >= 0 else s.case]
    )


def _bulk_from_list(page: Page, seed: Seed):
    form = page.locator("form#selection")
    form.locator("input[name=dossier]").nth(0).check()
    form.locator("input[name=dossier]").nth(1).check()
    form.get_by_label("Action", exact=True).select_option("je-m-en-occupe")
    return form.get_by_role("button", name="Continuer")


def _bulk_confirmed(page: Page, seed: Seed):
    page.get_by_label(re.compile(r"\(obligatoire\)$")).check()
    return page.get_by_role("main").get_by_role("button", name="M'attribuer ces dossiers")


def _forgotten_password(page: Page, seed: Seed):
    page.get_by_label("Adresse électronique").fill("personne@mairie.fr")
    return page.get_by_role("button", name="Recevoir le lien")


def _different_passwords(page: Page, seed: Seed):
    page.get_by_label("Nouveau mot de passe").fill("Une-phrase-de-passe-42")
    page.get_by_label("Confirmation du mot de passe").fill("Une-autre-phrase-42")
    return page.get_by_role("button", name="Enregistrer le mot de passe")


def _wrong_code(page: Page, seed: Seed):
    page.get_by_label("Code à 6 chiffres").fill("12345")
    return page.get_by_role("button", name="Valider le code")


def _bulk_start(seed: Seed) -> str:
    spare = list(seed.by_action.values())[:2]
    return reverse("dossiers:bulk") + _bulk_query("je-m-en-occupe", *spare)


SUBMISSIONS = [
    Submission(
        "« Mot de passe oublié ? » → message identique, l'adresse existe ou non",
        "password_reset",
        ANONYMOUS,
        lambda s: reverse("password_reset"),
        _forgotten_password,
        "un courriel vient de lui être envoyé",
    ),
    Submission(
        "lien d'invitation : deux mots de passe différents (erreurs du formulaire)",
        "password_reset_confirm",
        ANONYMOUS,
        lambda s: _invitation_path(),
        _different_passwords,
        "ne sont pas identiques",
    ),
    Submission(
        "double authentification : code trop court (erreurs du formulaire)",
        "second-factor-verify",
        VERIFYING,
        lambda s: reverse("second-factor-verify") + "?next=/admin/",
        _wrong_code,
        "Le code fait 6 chiffres",
        status=400,
    ),
    Submission(
        "codes de secours : en générer de nouveaux",
        "second-factor-codes",
        SUPERUSER,
        lambda s: reverse("second-factor-codes"),
        _button("Générer de nouveaux codes de secours"),
        "Voici vos dix codes de secours.",
    ),
    Submission(
        "« Synchroniser maintenant » (tableau de bord)",
        "sync-now",
        AGENT,
        lambda s: reverse("home"),
        _button("Synchroniser maintenant"),
        "Synchronisation demandée",
    ),
    Submission(
        "préférences d'alerte",
        "preferences",
        AGENT,
        lambda s: reverse("preferences"),
        _preferences,
        "Vos préférences sont enregistrées.",
    ),
    _agent_action("prendre-en-charge"),
    _agent_action("demander-complement", "Merci de joindre un justificatif de domicile."),
    _agent_action("traiter", "Votre acte vous a été envoyé par courrier."),
    _agent_action("refuser", "Ce service ne délivre pas cet acte."),
    _agent_action("message", "Bonjour, votre dossier est complet."),
    _agent_action("renvoyer-documents", files=True),
    Submission(
        "« Je m'en occupe » (détail du dossier)",
        "dossiers:take",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.generated]),
        _button("Je m'en occupe"),
        "Dossier pris en charge : vous en êtes le responsable.",
    ),
    Submission(
        "« Confier à » (détail du dossier)",
        "dossiers:assign",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.generated]),
        _hand_over,
        "Dossier confié à",
    ),
    Submission(
        "« Libérer » (détail du dossier)",
        "dossiers:release",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.generated]),
        _button(re.compile("^Libérer")),
        "Le dossier est libéré",
    ),
    Submission(
        "note interne (détail du dossier)",
        "dossiers:note",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.generated]),
        _note,
        "Note ajoutée",
    ),
    Submission(
        "nouvel essai d'un envoi en échec (détail du dossier)",
        "dossiers:retry",
        AGENT,
        lambda s: reverse("dossiers:detail", args=[s.dossier]),
        lambda page, seed: page.locator("form[action*='/reessayer/']").first.locator(SUBMIT),
        "Nouvel essai demandé",
    ),
    Submission(
        "action « refuser » sans message ni confirmation (erreurs du formulaire)",
        "dossiers:action",
        AGENT,
        lambda s: reverse("dossiers:action", args=[s.dossier, "refuser"]),
        _refused_without_confirmation,
        "Cochez la case de confirmation pour continuer.",
        status=400,
    ),
    Submission(
        "action « message » : insérer un modèle de réponse (rien n'est envoyé)",
        "dossiers:action",
        AGENT,
        lambda s: reverse("dossiers:action", args=[s.dossier, "message"]),
        _insert_template,
        "est inséré dans le message",
    ),
    Submission(
        "sélection de dossiers depuis la liste (action groupée)",
        "dossiers:bulk",
        AGENT,
        lambda s: reverse("dossiers:list"),
        _bulk_from_list,
        None,
    ),
    Submission(
        "action groupée sans confirmation (erreurs du formulaire)",
        "dossiers:bulk",
        AGENT,
        _bulk_start,
        _button("M'attribuer ces dossiers"),
        "Cochez la case de confirmation pour continuer.",
        status=400,
    ),
    Submission(
        "action groupée confirmée → résumé",
        "dossiers:bulk",
        AGENT,
        _bulk_start,
        _bulk_confirmed,
        "Action groupée enregistrée",
    ),
    Submission(
        "bac à sable : déposer un télédossier",
        "sandbox:osl-deposit",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-deposit", args=[s.subscription]),
        _button("Déposer le télédossier"),
        "déposé : HubEE l'a notifié",
    ),
    Submission(
        "bac à sable : message de l'opérateur",
        "sandbox:osl-message",
        SUPERUSER,
        _case_page(0),
        _case_form("osl-message", 0, "Je complète ma demande."),
        "Message envoyé (SENDING_MESSAGE)",
    ),
    Submission(
        "bac à sable : message vide (erreurs du formulaire)",
        "sandbox:osl-message",
        SUPERUSER,
        _case_page(0),
        _case_form("osl-message", 0),
        None,
        status=400,
    ),
    Submission(
        "bac à sable : ajouter des pièces",
        "sandbox:osl-documents",
        SUPERUSER,
        _case_page(0),
        _case_form("osl-documents", 0),
        "le service instructeur est notifié",
    ),
    Submission(
        "bac à sable : accuser réception",
        "sandbox:osl-acknowledge",
        SUPERUSER,
        _case_page(-1),
        _acknowledge,
        "Réception accusée (RECEIVED)",
    ),
    Submission(
        "bac à sable : clore le télédossier",
        "sandbox:osl-close",
        SUPERUSER,
        _case_page(0),
        _case_form("osl-close", 0),
        "Télédossier clos (STATUS_UPDATE CLOSED)",
    ),
    Submission(
        "bac à sable : purger le télédossier",
        "sandbox:osl-purge",
        SUPERUSER,
        _case_page(1),
        _case_form("osl-purge", 1),
        "Télédossier purgé",
    ),
    Submission(
        "bac à sable : enregistrer les pannes",
        "sandbox:osl-faults",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-faults"),
        _button("Enregistrer les pannes"),
        "Pannes enregistrées",
    ),
    Submission(
        "bac à sable : désactiver les pannes",
        "sandbox:osl-faults",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-faults"),
        _button("Désactiver toutes les pannes"),
        "Pannes désactivées",
    ),
    Submission(
        "bac à sable : vider le journal des appels",
        "sandbox:osl-faults",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-faults"),
        _button("Vider le journal des appels"),
        "Journal des appels vidé.",
    ),
    Submission(
        "bac à sable : règles de conservation",
        "sandbox:osl-retention",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-purge-rules"),
        _retention,
        "Règles de conservation de la démarche",
    ),
    Submission(
        "bac à sable : lancer la purge de HubEE",
        "sandbox:osl-purge-rules",
        SUPERUSER,
        lambda s: reverse("sandbox:osl-purge-rules"),
        _button("Lancer la purge de HubEE"),
        "Purge de HubEE passée comme le",
    ),
]


def test_every_post_endpoint_is_submitted():
    """A POST-only URL name listed as submitted is posted to by one of SUBMISSIONS."""
    submitted = {name for name, reason in NOT_PAGES.items() if reason == SUBMITTED}
    missing = submitted - {item.posts for item in SUBMISSIONS}
    assert not missing, f"formulaire jamais soumis par la visite : {sorted(missing)}"


@pytest.mark.browser
@ONLY_SQLITE
@pytest.mark.django_db(transaction=True)
def test_page_walk_action_forms(walk, sessions):
    failures = Failures()
    first, *others = SIZES
    for item in SUBMISSIONS:
        session = sessions[item.user]
        label = f"{item.label} → page d'arrivée"
        start = item.start(walk)
        if session.goto(start, first) != 200:
            failures.add(
                label, size_label(first), "HTTP", f"la page de départ {start} ne répond pas 200"
            )
            continue
        button = item.fill(session.page, walk)
        if button.count() != 1:
            failures.add(label, size_label(first), "formulaire", f"bouton introuvable sur {start}")
            continue
        session.reset()
        with session.page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        status = response.status if response else None
        label = f"{label} {session.page.url.removeprefix(walk.url)}"
        check_page(
            session,
            failures,
            label,
            first,
            status=status,
            expected_status=item.status,
            announced=item.announced,
        )
        # The flash message is shown once: the same page is resized, not reloaded.
        for size in others:
            session.page.set_viewport_size({"width": size[0], "height": size[1]})
            check_page(
                session,
                failures,
                label,
                size,
                status=status,
                expected_status=item.status,
                announced=item.announced,
            )
    if failures:
        pytest.fail(failures.report("Formulaires d'action"), pytrace=False)


# -- the Django admin: measured, reported, failing only on a 500 ---------------------------------


def _admin_visits(superuser, skipped: list[str] | None = None) -> list[tuple[str, str]]:
    """The admin index and app pages, each registered model's changelist, add and change views
    (history and delete once: Django's templates), the password pages. `skipped` receives the
    views not measured, with why."""
    skipped = [] if skipped is None else skipped
    request = RequestFactory().get("/admin/")
    request.user = superuser
    visits = [("admin:index", reverse("admin:index"))]
    apps = sorted({model._meta.app_label for model in admin.site._registry})
    visits += [
        ("admin:app_list", reverse("admin:app_list", kwargs={"app_label": app})) for app in apps
    ]
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        visits.append((f"{prefix}_changelist", reverse(f"{prefix}_changelist")))
        if model_admin.has_add_permission(request):
            visits.append((f"{prefix}_add", reverse(f"{prefix}_add")))
        else:
            skipped.append(f"{prefix}_add : ajout refusé par l'admin du modèle")
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            skipped.append(f"{prefix}_change : aucun objet dans les données de la visite")
        elif model_admin.has_view_or_change_permission(request, obj):
            visits.append((f"{prefix}_change", reverse(f"{prefix}_change", args=[quote(obj.pk)])))
            if model._meta.label == "demarches.Demarche":  # one of each Django template
                for view in ("history", "delete"):
                    path = reverse(f"{prefix}_{view}", args=[quote(obj.pk)])
                    visits.append((f"{prefix}_{view}", path))
    visits += [
        ("admin:password_change", reverse("admin:password_change")),
        ("admin:password_change_done", reverse("admin:password_change_done")),
        (
            "admin:auth_user_password_change",
            reverse("admin:auth_user_password_change", args=[superuser.pk]),
        ),
    ]
    return visits


@ONLY_SQLITE
@pytest.mark.django_db(transaction=True)
def test_every_admin_page_answers(walk, client):
    """Every admin page of the measurement below answers, without a browser, and carries the
    footer and the banner: the gate that runs in every pass of .ci/run."""
    superuser = get_user_model().objects.get(username=SUPERUSER)
    login_staff(client, superuser)  # else every admin page would be a redirect, no answer
    assert client.get(reverse("admin:index")).status_code == 200
    errors = []
    for name, path in _admin_visits(superuser):
        response = client.get(path)
        if response.status_code >= 500:
            errors.append(f"{name} {path} : statut {response.status_code}")
        elif response.status_code == 200:
            # Issue 21: the footer's links and the banner on the admin's pages too.
            html = response.content.decode()
            missing = [n for n, u in FOOTER_LINKS.items() if f'href="{reverse(u)}"' not in html]
            if environment.banner() and environment.banner() not in html:
                missing.append("bandeau d'environnement")
            if missing:
                errors.append(f"{name} {path} : sans {', '.join(missing)}")
    assert not errors, "\n".join(errors)


# A measurement for the accessibility statement (about 100 s of browser time): on demand, with
# MEASURE_ADMIN_PAGES=1; test_every_admin_page_answers keeps its gate in every run.
@pytest.mark.browser
@ONLY_SQLITE
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    os.environ.get("MEASURE_ADMIN_PAGES") != "1",
    reason="mesure des pages de l'admin pour la déclaration : MEASURE_ADMIN_PAGES=1",
)
def test_admin_pages_are_measured_for_the_statement(walk, sessions, request, tmp_path_factory):
    """Django's admin is not ours to fix: its failures are listed for the accessibility
    statement (report section and JSON file), and only a server error fails the test."""
    superuser = get_user_model().objects.get(username=SUPERUSER)
    session = sessions[SUPERUSER]
    failures = Failures()
    server_errors = []
    skipped: list[str] = []
    visits = _admin_visits(superuser, skipped)
    for name, path in visits:
        label = f"{name} {path}"
        for index, size in enumerate(SIZES):
            status = session.goto(path, size)
            if status is None or status >= 500:
                server_errors.append(f"{label} [{size_label(size)}] : statut {status}")
                break
            # axe once per page: Django's markup does not change with the width.
            check_page(session, failures, label, size, status=status, run_axe=index == 0)
    report = failures.report(f"Administration Django ({len(visits)} pages mesurées)")
    path = tmp_path_factory.getbasetemp() / "page-walk-admin.json"
    path.write_text(failures.as_json(), encoding="utf-8")
    report += "\n\nNon mesurées :\n" + "\n".join(f"    {line}" for line in skipped)
    report += f"\n\nRapport JSON : {path}"
    # Shown by pytest -rP (or -rA), under this title.
    request.node.add_report_section("call", "administration Django (pour la déclaration)", report)
    assert not server_errors, "\n".join(server_errors)
