"""An agent's day in a real browser (Debian's Chromium) against the sandbox: log in, filter,
open a dossier, download a file, close it with a message, ask for a complement."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from demarches.models import Demarche
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Dossier
from hubee_portal.demo.seeding import SUBSCRIPTION_RULES
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.storage import attachment_path
from hubee_portal.second_factor import required
from tests.conftest import totp_token
from tests.dossiers.conftest import pdf_bytes
from tests.factories import DemarcheFactory, HubEEConnectionFactory, agent_for

PASSWORD = "mot-de-passe-de-test"
RULES = {"allows_messages": True, "allows_add_awaiting": True, "allows_document_return": True}


@dataclass
class LivePortal:
    url: str
    demarche: Demarche
    agent: object

    def deposit(self, **kwargs):
        kwargs.setdefault(
            "files", [("demande.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("demande"))]
        )
        return sandbox.deposit_case(self.demarche.subscription, **kwargs)

    def sync(self):
        return sync_demarche(Demarche.objects.get(pk=self.demarche.pk))


def live_portal(
    live_server,
    tmp_path,
    process_code="EtatCivil",
    *,
    rules: Mapping[str, Any] | None = None,
    name: str = "Actes d'état civil",
) -> LivePortal:
    """A démarche on the sandbox the live server serves, and its agent. `rules`: the démarche's
    settings (default: every exchange, automatic SI_RECEIVED); the sandbox gets the same."""
    rules = dict(rules) if rules is not None else {**RULES, "automatic_status": "SI_RECEIVED"}
    # The sandbox API is served by the live server itself (HUBEE_SANDBOX is on in tests).
    connection = HubEEConnectionFactory(
        name="Bac à sable (navigateur)",
        environment="autre",
        token_url=f"{live_server.url}/sandbox/oauth2/token",
        api_url=f"{live_server.url}/sandbox",
    )
    subscription = sandbox.create_subscription(
        process_code,
        f"client-{process_code}",
        "secret-navigateur",
        **{key: rules[key] for key in SUBSCRIPTION_RULES if key in rules},
    )
    demarche = DemarcheFactory(
        name=name,
        process_code=process_code,
        connection=connection,
        client_id=f"client-{process_code}",
        client_secret="secret-navigateur",
        download_folder=str(tmp_path / "telechargements"),
        **rules,
    )
    demarche.subscription = subscription
    agent = agent_for(demarche, username="agent.nice", first_name="Dominique", last_name="Agent")
    return LivePortal(live_server.url, demarche, agent)


def log_in(page: Page, url: str, username: str = "agent.nice", second_factor=True) -> None:
    """Log in through the login page; staff go on with the second factor unless told not."""
    page.goto(f"{url}/")
    expect(page).to_have_title(re.compile(r"^Connexion — "))
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if not second_factor:
        expect(page).not_to_have_title(re.compile(r"^Connexion — "))
        return
    user = get_user_model().objects.get(username=username)
    if required(user):
        enter_totp(page, user)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def enter_totp(page: Page, user) -> None:
    """The second factor's page, with the code an authenticator app would show."""
    token = totp_token(user)  # creates the device first if the user has none
    if "/activer/" in page.url:  # enrolled by the test, not on this page: ask again
        page.goto(page.url.replace("/activer/", "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
    page.get_by_label("Code à 6 chiffres").fill(token)
    page.get_by_role("button", name="Valider le code").click()


def action_panel(page: Page, label: str):
    """The <details> panel of an action on the dossier page."""
    return page.locator("details.action-panel").filter(has=page.locator("summary", has_text=label))


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_reads_downloads_and_closes_a_dossier(page, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    acte = pdf_bytes("acte de naissance", 40_000)
    wanted = portal.deposit(
        applicant={"firstName": "Camille", "lastName": "Lefebvre", "email": "camille@ex.fr"},
        files=[
            ("acte-naissance.pdf", "ActeEtatCivil-PDF", "application/pdf", acte),
            (
                "demande.xml",
                "ActeEtatCivil-XML",
                "application/xml",
                b"<Demande><Nom>Lefebvre</Nom></Demande>",
            ),
        ],
    )
    portal.deposit(applicant={"firstName": "Alex", "lastName": "Bernard"})
    portal.sync()

    log_in(page, portal.url)
    expect(page.get_by_role("heading", name="Actes d'état civil")).to_be_visible()
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Dossiers"
    ).click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)

    # Filter the list.
    page.get_by_label("Rechercher").fill("lefebvre")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Camille Lefebvre")

    # Open the dossier.
    page.get_by_role("link", name=wanted.external_id).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dossier {wanted.external_id}")
    expect(page.get_by_text("camille@ex.fr")).to_be_visible()

    # Download a file: the very bytes the sandbox holds.
    with page.expect_download() as info:
        # Linked twice (the attachments, the conversation): the same file.
        page.get_by_role("link", name="acte-naissance.pdf", exact=True).first.click()
    download = info.value
    assert download.suggested_filename == "acte-naissance.pdf"
    sandbox_file = attachment_path(wanted.attachments.get(file_name="acte-naissance.pdf").id)
    with open(download.path(), "rb") as handle:
        assert handle.read() == acte == sandbox_file.read_bytes()

    # The XML read as fields.
    page.get_by_role("link", name="Lire les champs de demande.xml").click()
    expect(page.get_by_role("row", name=re.compile("^Nom"))).to_contain_text("Lefebvre")
    page.go_back()

    # Close it as done, with a message; confirmation is required.
    panel = action_panel(page, "Clore : demande traitée")
    panel.locator("summary").click()
    panel.get_by_label("Message à l'usager").fill("Votre acte vous a été envoyé par courrier.")
    panel.get_by_label(re.compile("^Je confirme")).check()
    panel.get_by_role("button", name="Clore : demande traitée").click()
    expect(page.locator(".messages")).to_contain_text("en attente d'envoi à HubEE")
    # Delivered inline in tests: already transmitted when the page shows.
    entry = page.locator(".conversation-list > li").filter(has_text="Passage au statut « Traité »")
    expect(entry).to_contain_text("Transmis à HubEE")
    expect(page.locator("#etat-dossier")).to_contain_text("Traité")

    # What HubEE (the sandbox) now holds.
    assert sandbox.status_pushes(wanted) == ["SI_RECEIVED", "DONE"]
    event = sandbox.case_as_hubee_sees_it(wanted)["events"][-1]
    assert event["message"] == "Votre acte vous a été envoyé par courrier."
    assert event["author"] == "Dominique Agent"
    assert Dossier.objects.get(hubee_case_id=wanted.id).status == "DONE"


def test_agent_requests_a_complement(page, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    case = portal.deposit(applicant={"firstName": "Noé", "lastName": "Garnier"})
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)

    log_in(page, portal.url)
    page.goto(f"{portal.url}/dossiers/{dossier.pk}/")
    panel = action_panel(page, "Demander un complément")
    panel.locator("summary").click()
    # Without a message the server refuses it and says why.
    panel.get_by_label(re.compile("^Je confirme")).check()
    panel.get_by_label("Message à l'usager (obligatoire)").fill(
        "Merci de joindre un justificatif de domicile."
    )
    panel.get_by_role("button", name="Demander un complément").click()
    expect(page.locator(".messages")).to_contain_text("en attente d'envoi à HubEE")
    expect(page.locator("#etat-dossier")).to_contain_text("En attente de compléments")
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "ADD_AWAITING"]
    assert sandbox.case_as_hubee_sees_it(case)["events"][-1]["message"] == (
        "Merci de joindre un justificatif de domicile."
    )

    # The citizen answers: after the next sync the dossier shows as unread.
    sandbox.osl_attach_deposit(
        case,
        [("justificatif.pdf", "PJ", "application/pdf", pdf_bytes("justificatif"))],
        message="Voici le justificatif.",
        case_new_status="HUBEE_NOTIFIED",
    )
    portal.sync()
    page.goto(f"{portal.url}/dossiers/?non_lus=on")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr").first).to_contain_text("Non lu")


def test_a_message_without_javascript_needs_the_confirmation(browser, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    case = portal.deposit()
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, portal.url)
        page.goto(f"{portal.url}/dossiers/{dossier.pk}/actions/message/")
        page.get_by_label("Message à l'usager (obligatoire)").fill(
            "Bonjour, votre dossier est complet."
        )
        page.get_by_role("button", name="Écrire à l'usager").click()
        # Unticked confirmation: nothing is sent.
        expect(page).to_have_url(re.compile(r"/actions/message/$"))
        actions = [e["actionType"] for e in sandbox.case_as_hubee_sees_it(case)["events"]]
        assert "SENDING_MESSAGE" not in actions
        page.get_by_label(re.compile("^Je confirme")).check()
        page.get_by_role("button", name="Écrire à l'usager").click()
        expect(page.locator(".messages")).to_contain_text("en attente d'envoi à HubEE")
    finally:
        context.close()
    assert sandbox.case_as_hubee_sees_it(case)["events"][-1]["actionType"] == "SENDING_MESSAGE"
