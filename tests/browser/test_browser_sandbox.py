"""A tester deposits a télédossier in the sandbox through its pages, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from hubee_portal.sandbox import services
from hubee_portal.sandbox.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_deposits_a_dossier_and_sees_it_listed(page, live_server, admin_user):
    services.create_subscription("CERTDC", "client-certdc", "secret-certdc")
    services.create_subscription(
        "recensementCitoyen", "client-rco", "secret-rco", allows_messages=True
    )

    page.goto(f"{live_server.url}/sandbox/")
    expect(page).to_have_title("Connexion — Portail de réception HubEE")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_title("Simulateur HubEE — Portail de réception HubEE")
    census = page.get_by_role("region", name=re.compile(r"^Recensement citoyen obligatoire"))
    expect(census.get_by_text("Aucun télédossier déposé pour cette démarche.")).to_be_visible()
    census.get_by_role("link", name="Déposer un télédossier").click()

    expect(page.get_by_role("heading", name="Déposer un télédossier de test")).to_be_visible()
    # A fictitious applicant is proposed; the tester names their own.
    expect(page.get_by_label("Courriel du demandeur (facultatif)")).to_have_value(
        re.compile(r"@yopmail\.com$")
    )
    page.get_by_label("Prénom du demandeur").fill("Maëlle")
    page.get_by_label("Nom du demandeur", exact=True).fill("Quéré")
    page.get_by_role("button", name="Déposer le télédossier").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Télédossier DILA-RCO-"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"déposé : HubEE l'a notifié"))).to_be_visible()
    files = page.get_by_role("table", name="Pièces jointes du télédossier")
    expect(files.get_by_role("row")).to_have_count(5)  # the header, then the 4 census files
    expect(files).to_contain_text("10870-PDF")

    page.get_by_role("navigation", name="Bac à sable HubEE").get_by_role(
        "link", name="Abonnements et télédossiers"
    ).click()
    row = census.get_by_role("row", name=re.compile("Maëlle Quéré"))
    expect(row).to_contain_text("Nouveau (HUBEE_NOTIFIED)")
    expect(row.get_by_role("cell").last).to_have_text("1")  # waiting for the portal's sync

    case = Case.objects.get()
    assert (case.applicant_first_name, case.applicant_last_name) == ("Maëlle", "Quéré")
    assert case.subscription.process_code == "recensementCitoyen"
    assert sorted(case.attachments.values_list("type", flat=True)) == [
        "10870-PDF",
        "10870-XML",
        "jf",
        "ji",
    ]
