"""Issue 18: an administrator creates an agent with two démarches out of three on one admin page;
the agent follows the e-mailed link, chooses a password, logs in and sees exactly those two.

The live server runs in the test's process: the e-mail lands in django.core.mail.outbox.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from tests.browser.test_browser_agent import log_in
from tests.browser.test_page_walk import ONLY_SQLITE
from tests.factories import AdminFactory, DemarcheFactory

pytestmark = [pytest.mark.browser, ONLY_SQLITE, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Une-phrase-de-passe-pour-Nice-42"


def test_an_invited_agent_chooses_a_password_and_sees_their_demarches(
    browser, live_server, tmp_path
):
    AdminFactory()
    etat_civil, recensement, urbanisme = (
        DemarcheFactory(name=name, download_folder=str(tmp_path / str(n)))
        for n, name in enumerate(("Actes d'état civil", "Recensement citoyen", "Urbanisme"))
    )

    admin = browser.new_context().new_page()
    log_in(admin, live_server.url, "admin")
    admin.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(admin.get_by_label("Mot de passe")).to_have_count(0)  # none is asked
    admin.get_by_label("Nom d’utilisateur").fill("c.martin")
    admin.get_by_label("Prénom").fill("Camille")
    admin.locator("#id_last_name").fill("Martin")  # « Nom » is in « Nom d’utilisateur » too
    admin.get_by_label("Adresse électronique").fill("c.martin@mairie-nice.fr")
    admin.get_by_label("Actes d'état civil").check()
    admin.get_by_label("Recensement citoyen").check()
    admin.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text(
        "Invitation envoyée à c.martin@mairie-nice.fr"
    )
    agent = get_user_model().objects.get(username="c.martin")
    assert not agent.has_usable_password()
    admin.context.close()

    [message] = mail.outbox
    assert message.to == ["c.martin@mairie-nice.fr"]
    assert "Portail de réception HubEE" in message.subject
    link = re.search(r"http://\S+/mot-de-passe/\S+/", message.body).group(0)
    assert link.startswith(live_server.url)

    page = browser.new_context().new_page()
    page.goto(link)
    expect(page).to_have_title(re.compile(r"^Choisir votre mot de passe — "))
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré.")

    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Identifiant").fill("c.martin")
    page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")

    page.goto(f"{live_server.url}/dossiers/")
    options = page.get_by_label("Démarche", exact=True).locator("option").all_inner_texts()
    assert sorted(o for o in options if o != "Toutes") == sorted(
        [str(etat_civil), str(recensement)]
    )
    assert str(urbanisme) not in options
