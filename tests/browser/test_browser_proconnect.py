"""Issue 20: agents sign in with ProConnect — here the sandbox's fake ProConnect, which the
portal's mozilla-django-oidc reaches over HTTP on the live server, with real RS256 signatures.
A login, each refusal with its page, a logout that ends the ProConnect session, a step-up."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from demarches.identities import ProConnectIdentity
from demarches.models import Organisation
from hubee_portal.sandbox.proconnect.identities import DEMO_AGENT_EMAIL, DEMOVILLE_SIRET
from tests.browser.proconnect import use_fake_proconnect
from tests.browser.test_page_walk import ONLY_SQLITE
from tests.factories import DemarcheFactory, DossierFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, ONLY_SQLITE, pytest.mark.django_db(transaction=True)]

DEMO_AGENT = re.compile(r"^Dominique Agent — .*mot de passe seul$")
PICKER = re.compile(r"^Identité de test — ProConnect")


@pytest.fixture
def portal(settings, live_server) -> str:
    use_fake_proconnect(settings, live_server.url)
    OrganisationFactory(siret=DEMOVILLE_SIRET, name="Commune de Démoville")
    UserFactory(username="agent", email=DEMO_AGENT_EMAIL.upper(), first_name="A", last_name="B")
    return live_server.url


def start(page: Page, url: str) -> None:
    page.goto(f"{url}/connexion/")
    page.get_by_role("link", name="S'identifier avec ProConnect").click()


def pick(page: Page, identity, button: str = "Se connecter") -> None:
    expect(page).to_have_title(PICKER)
    page.get_by_label(identity).check()
    page.get_by_role("button", name=button).click()


def refused(page: Page, title: str) -> None:
    expect(page).to_have_title(re.compile(rf"^Connexion refusée : {re.escape(title)} — "))
    expect(page.get_by_role("alert")).to_contain_text("Ce qui s'est passé")


def another_account(page: Page) -> None:
    """The refusal page's way out: ProConnect's session ends, back to the login page."""
    page.get_by_role("button", name="Se connecter avec un autre compte ProConnect").click()
    expect(page).to_have_title(re.compile(r"^Connexion — "))
    expect(page.get_by_role("status")).to_contain_text("déconnecté du portail et de ProConnect")


def test_an_agent_signs_in_with_proconnect_and_logs_out_of_it(page: Page, portal: str):
    start(page, portal)
    pick(page, DEMO_AGENT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    # Matched on the e-mail (another case), names taken from the claims, identity stored.
    expect(page.get_by_role("navigation", name="Compte")).to_contain_text("Dominique Agent")
    agent = get_user_model().objects.get(username="agent")
    assert ProConnectIdentity.objects.get(user=agent).idp_id

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_contain_text("déconnecté du portail et de ProConnect")
    # ProConnect's session ended too: the identity is asked again.
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    pick(page, DEMO_AGENT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def test_each_refusal_says_why_and_what_to_do(page: Page, portal: str):
    start(page, portal)
    pick(page, re.compile("^Alix Inconnu"))
    refused(page, "compte inconnu")
    expect(page.get_by_role("main")).to_contain_text("administrateur du portail")
    # ProConnect kept its session: a new try goes through without its page, refused again.
    page.goto(f"{portal}/connexion/proconnect/")
    refused(page, "compte inconnu")
    another_account(page)

    start(page, portal)
    pick(page, re.compile("^Sacha Voisin"))
    refused(page, "organisation non reconnue")
    another_account(page)

    UserFactory(username="homonyme", email=DEMO_AGENT_EMAIL)
    start(page, portal)
    pick(page, DEMO_AGENT)
    refused(page, "adresse partagée")
    another_account(page)
    assert not ProConnectIdentity.objects.exists()

    start(page, portal)
    pick(page, DEMO_AGENT, button="Simuler une erreur de ProConnect")
    refused(page, "erreur de ProConnect")

    start(page, portal)
    pick(page, DEMO_AGENT, button="Annuler")
    refused(page, "connexion annulée")
    page.get_by_role("link", name="Réessayer avec ProConnect").click()
    expect(page).to_have_title(PICKER)


def sensitive_dossier(agent_name: str = "agent"):
    """A dossier of a sensitive démarche (CertDC) the agent is habilitated on."""
    demarche = DemarcheFactory(
        name="Certificats de décès",
        process_code="CERTDC",
        sensitive=True,
        organisation=Organisation.objects.get(siret=DEMOVILLE_SIRET),
    )
    demarche.agents.add(get_user_model().objects.get(username=agent_name))
    return DossierFactory(demarche=demarche)


def stored_session() -> dict:
    [stored] = [
        data for data in (s.get_decoded() for s in Session.objects.all()) if "_auth_user_id" in data
    ]
    return stored


def test_a_step_up_before_a_certdc_dossier_opens(page: Page, portal: str):
    dossier = sensitive_dossier()
    start(page, portal)
    pick(page, DEMO_AGENT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    # The session has no second factor: opening the CertDC dossier asks ProConnect for one.
    page.goto(f"{portal}/dossiers/")
    page.get_by_role("link", name=re.compile(dossier.external_id)).first.click()
    expect(page.get_by_role("note")).to_contain_text("Double authentification demandée")
    pick(page, re.compile("^Dominique Agent — .*avec double authentification$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(dossier.external_id)
    assert (stored_session()["hubee_mfa"], stored_session()["hubee_step_up_tried"]) == (
        "proconnect",
        True,
    )


def test_a_failed_step_up_falls_back_to_the_portals_totp(page: Page, portal: str):
    dossier = sensitive_dossier()
    start(page, portal)
    pick(page, DEMO_AGENT)
    page.goto(f"{portal}/dossiers/{dossier.pk}/")
    expect(page.get_by_role("note")).to_contain_text("Double authentification demandée")
    # The identity provider cannot do it: ProConnect answers with an error, once (no loop).
    page.get_by_label(DEMO_AGENT).check()
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("double authentification")
    assert "/connexion/second-facteur/" in page.url
    assert "hubee_mfa" not in stored_session()
    # The dossier still does not open without it.
    page.goto(f"{portal}/dossiers/{dossier.pk}/")
    assert "/connexion/second-facteur/" in page.url
