"""An agent answers with a reply template in a real browser, JavaScript off: choose it,
« Insérer le modèle », read the filled message, confirm, refuse the request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from demarches.models import ReplyTemplate
from dossiers.models import Dossier
from hubee_portal.sandbox import services as sandbox
from tests.browser.test_browser_agent import live_portal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refusal_answered_with_a_template_without_javascript(browser, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    ReplyTemplate.objects.create(
        demarche=portal.demarche,
        name="Refus : demande incomplète",
        purpose="refusal",
        text="Bonjour {prenom} {nom}, votre demande {numero} est incomplète.",
    )
    case = portal.deposit(applicant={"firstName": "Noé", "lastName": "Garnier"})
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    expected = f"Bonjour Noé Garnier, votre demande {dossier.external_id} est incomplète."
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, portal.url)
        page.goto(f"{portal.url}/dossiers/{dossier.pk}/actions/refuser/")
        page.get_by_label("Modèle de réponse").select_option(label="Refus : demande incomplète")
        message = page.get_by_label("Message à l'usager (obligatoire)")
        # One visible action button: the default one for Enter stays hidden.
        expect(page.get_by_role("button", name="Refuser la demande")).to_have_count(1)
        # Enter on the checkbox submits the action (refused: not confirmed), never the
        # insertion, which would replace what the agent wrote.
        message.fill("Mon propre texte.")
        page.get_by_role("checkbox").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Cochez la case de confirmation")
        expect(message).to_have_value("Mon propre texte.")
        page.get_by_role("button", name="Insérer le modèle").click()
        # Same page, message filled, nothing sent, no error.
        expect(page).to_have_url(re.compile(r"/actions/refuser/$"))
        expect(page.get_by_role("status")).to_contain_text("est inséré dans le message")
        expect(message).to_have_value(expected)
        expect(message).to_be_focused()
        expect(page.get_by_role("alert")).to_have_count(0)
        assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
        # Without the confirmation: the server says so in French (novalidate, no bubble).
        page.get_by_role("button", name="Refuser la demande").click()
        expect(page.get_by_role("alert")).to_contain_text("Cochez la case de confirmation")
        page.get_by_label(re.compile(r"^Je confirme.*\(obligatoire\)$")).check()
        page.get_by_role("button", name="Refuser la demande").click()
        expect(page.locator(".messages")).to_be_visible()
    finally:
        context.close()
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "REFUSED"]
    assert sandbox.case_as_hubee_sees_it(case)["events"][-1]["message"] == expected
