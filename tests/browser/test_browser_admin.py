"""An administrator configures a démarche in a real browser (Debian's Chromium)."""

import pytest
from playwright.sync_api import expect

from demarches.models import Demarche
from tests.browser.test_browser_agent import enter_totp
from tests.factories import HubEEConnectionFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "secret-saisi-dans-le-navigateur"


def test_admin_creates_a_demarche_in_the_browser(page, live_server, admin_user, tmp_path):
    OrganisationFactory()
    HubEEConnectionFactory()

    page.goto(f"{live_server.url}/admin/demarches/demarche/add/")
    # LoginRequiredMiddleware sends us to the French login page first.
    expect(page).to_have_title("Connexion — Commune de Nice")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    enter_totp(page, admin_user)  # then the second factor, before any admin page

    page.get_by_label("Nom affiché").fill("Recensement citoyen")
    page.get_by_label("Code de la démarche (processCode)").fill("recensementCitoyen")
    page.get_by_label("Organisation").select_option(label="Commune de Nice (21060088800015)")
    page.get_by_label("Connexion HubEE").select_option(label="Préproduction")
    page.get_by_label("Identifiant client (client id)").fill("client-rco")
    page.get_by_label("Secret client (client secret)").fill(SECRET)
    page.get_by_label("Dossier de téléchargement").fill(str(tmp_path / "rco"))
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.locator(".messagelist .success")).to_contain_text("a été ajouté")
    demarche = Demarche.objects.get(client_id="client-rco")
    assert demarche.client_secret == SECRET
    assert (tmp_path / "rco").is_dir()

    # The change page never shows the secret again.
    page.goto(f"{live_server.url}/admin/demarches/demarche/{demarche.pk}/change/")
    secret_field = page.get_by_label("Secret client (client secret)")
    expect(secret_field).to_have_value("")
    assert SECRET not in page.content()
