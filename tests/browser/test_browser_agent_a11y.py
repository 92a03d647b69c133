"""Every agent page listed from the URLconf passes axe-core without a serious or critical
violation (axe-playwright-python bundles axe-core: nothing is downloaded)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import expect

from dossiers.models import Dossier, OutgoingEvent
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.content import make_pdf
from tests.browser.test_browser_agent import live_portal, log_in
from tests.conftest import totp_token
from tests.dossiers.conftest import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}
# Not pages: downloads, POST-only endpoints, other apps.
NOT_PAGES = {
    "dossiers:download",
    "dossiers:download-all",
    "dossiers:preview-image",  # an image of dossiers:preview
    "dossiers:export",  # CSV
    "dossiers:statistics-csv",  # CSV
    "dossiers:retry",
    "dossiers:follow",  # the live parts of dossiers:detail, checked with it
    "dossiers:take",  # POST only, like the three below
    "dossiers:assign",
    "dossiers:release",
    "dossiers:note",
    "healthz",  # JSON for monitoring tools
    "favicon",  # a redirect to the icon
    "portal-logo",  # the installation's logo, an image in the header
    "sync-now",
    "logout",
    "oidc_logout",  # POST only
    "proconnect-login",  # redirects to ProConnect, like the three below
    "proconnect-step-up",
    "proconnect-logged-out",
    "oidc_authentication_callback",
    "operations",  # an admin page: checked with axe in test_browser_operations
}
OTHER_APPS = {"admin", "sandbox"}


def url_names(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in OTHER_APPS or pattern.app_name in OTHER_APPS:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def check(page, axe, label):
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    results = axe.run(page)
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{label}: {blocking}"


def test_every_page_has_no_serious_accessibility_violation(page, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    case = portal.deposit(
        files=[
            ("acte.pdf", "ActeEtatCivil-PDF", "application/pdf", make_pdf("Acte", ["x"])),
            (
                "demande.xml",
                "ActeEtatCivil-XML",
                "application/xml",
                b"<Demande a='1'><Nom>X</Nom></Demande>",
            ),
            ("virus.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("v"), "CORRUPTED"),
        ]
    )
    portal.sync()
    sandbox.osl_message(case, "Une précision de l'usager.")
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    OutgoingEvent.objects.create(
        dossier=dossier,
        action_type="SENDING_MESSAGE",
        message="m",
        author="a",
        state="failed",
        last_error="HubEE refused the request",
    )
    xml = dossier.pieces_jointes.get(file_name="demande.xml")
    acte = dossier.pieces_jointes.get(file_name="acte.pdf")
    pages = {
        "home": [reverse("home")],
        "dossiers:list": [reverse("dossiers:list"), reverse("dossiers:list") + "?q=zzz"],
        "dossiers:detail": [reverse("dossiers:detail", args=[dossier.pk])],
        "dossiers:piece-fields": [reverse("dossiers:piece-fields", args=[dossier.pk, xml.pk])],
        "dossiers:preview": [reverse("dossiers:preview", args=[dossier.pk, acte.pk])],
        "dossiers:action": [
            reverse("dossiers:action", args=[dossier.pk, slug])
            for slug in ("prendre-en-charge", "refuser", "message", "renvoyer-documents")
        ],
        "dossiers:bulk": [
            reverse("dossiers:bulk") + f"?action=traiter&dossier={dossier.pk}",
            reverse("dossiers:bulk") + f"?action=je-m-en-occupe&dossier={dossier.pk}",
        ],
        "dossiers:bulk-result": [reverse("dossiers:bulk-result")],
        "preferences": [reverse("preferences")],
        "login": [reverse("login")],
        "dossiers:statistics": [reverse("dossiers:statistics")],
        "dossiers:statistics-demarche": [
            reverse("dossiers:statistics-demarche", args=[dossier.demarche_id])
        ],
        "password_reset": [reverse("password_reset")],
        "password_reset_done": [reverse("password_reset_done")],
        "password_reset_confirm": [reverse("password_reset_confirm", args=["MQ", "perime"])],
        "password_reset_complete": [reverse("password_reset_complete")],
        "proconnect-refused": [reverse("proconnect-refused", args=["compte-inconnu"])],
        # Checked in order below: enrolment, then verification (with errors), then the codes.
        "second-factor-setup": [],
        "second-factor-verify": [],
        "second-factor-codes": [],
        # Published pages (issue 21), as the agent reads them.
        "accessibility": [reverse("accessibility")],
        "legal": [reverse("legal")],
        "privacy": [reverse("privacy")],
        "sitemap": [reverse("sitemap")],
    }
    # Every named page of the URLconf is checked (a new page must be added here).
    assert set(url_names()) - NOT_PAGES == set(pages)

    axe = Axe()
    page.goto(f"{live_server.url}{reverse('login')}")
    check(page, axe, "login")
    log_in(page, live_server.url)
    for name, urls in pages.items():
        if name == "login":
            continue
        for url in urls:
            page.goto(f"{live_server.url}{url}")
            check(page, axe, url)

    # The second factor an agent of a sensitive démarche meets: enrolment, verification with a
    # wrong code, then the recovery codes.
    page.goto(f"{live_server.url}{reverse('second-factor-setup')}")
    expect(page.get_by_role("img", name="QR code de configuration")).to_be_visible()
    check(page, axe, "second-factor-setup")
    token = totp_token(portal.agent)  # enrolled (as the app would be): the code page next
    page.goto(f"{live_server.url}{reverse('second-factor-verify')}")
    page.get_by_label("Code à 6 chiffres").fill("12")
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("alert").first).to_contain_text("Le code fait 6 chiffres")
    check(page, axe, "second-factor-verify with errors")
    page.get_by_label("Code à 6 chiffres").fill(token)
    page.get_by_role("button", name="Valider le code").click()
    page.goto(f"{live_server.url}{reverse('second-factor-codes')}")
    expect(page).to_have_title(re.compile(r"^Codes de secours — "))
    check(page, axe, "second-factor-codes")

    # A form with errors, and the 404 page.
    page.goto(f"{live_server.url}{reverse('dossiers:action', args=[dossier.pk, 'refuser'])}")
    # The form carries novalidate: the server's French errors, never the browser's bubble.
    page.get_by_role("button", name="Refuser la demande").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check(page, axe, "action with errors")
    page.goto(f"{live_server.url}/dossiers/999999/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    check(page, axe, "404")
