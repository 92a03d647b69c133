"""Two agents share a démarche in real browsers: one takes a dossier, the other sees it taken
and cannot take it; a note reaches the colleague and nothing of it reaches HubEE."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from demarches.models import Demarche
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Dossier
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.models import Event as SandboxEvent
from tests.browser.test_browser_agent import log_in
from tests.browser.test_browser_conversation import set_up
from tests.factories import agent_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.both_databases,
    pytest.mark.django_db(transaction=True),
]

NOTE = "Mme Leroy a appelé : elle passera en mairie jeudi. Ne pas clore avant."


def test_two_agents_share_a_demarche(browser, live_server, tmp_path):
    demarche, subscription = set_up(live_server, tmp_path, "EtatCivil")
    agent_for(demarche, username="agent.cannes", first_name="Sam", last_name="Collègue")
    case = sandbox.deposit_generated_case(subscription, seed=31)
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    url = f"{live_server.url}/dossiers/{dossier.pk}/"
    first, second = browser.new_context(), browser.new_context()
    try:
        dominique, sam = first.new_page(), second.new_page()
        log_in(dominique, live_server.url)
        log_in(sam, live_server.url, "agent.cannes")
        dominique.goto(url)
        sam.goto(url)  # both pages show the dossier free
        expect(sam.get_by_role("button", name="Je m'en occupe")).to_be_visible()

        dominique.get_by_role("button", name="Je m'en occupe").click()
        expect(dominique.locator(".messages")).to_contain_text("Dossier pris en charge")
        # Sam's page is older: the click loses, and says to whom.
        sam.get_by_role("button", name="Je m'en occupe").click()
        expect(sam.locator(".messages [role=alert]")).to_contain_text(
            "Déjà pris par Dominique Agent."
        )
        expect(sam.get_by_text("Dominique Agent est responsable de ce dossier.")).to_be_visible()
        expect(sam.get_by_role("button", name="Je m'en occupe")).to_have_count(0)

        dominique.get_by_label("Note pour les agents de la démarche").fill(NOTE)
        dominique.get_by_role("button", name="Ajouter la note").click()
        expect(dominique.locator(".messages")).to_contain_text("Note ajoutée")
        sam.reload()
        note = sam.locator(".conversation-list > li.note")
        expect(note).to_contain_text(NOTE)
        expect(note).to_contain_text("jamais envoyée à HubEE")
    finally:
        first.close()
        second.close()

    assert Dossier.objects.get(pk=dossier.pk).assigned_to.username == "agent.nice"
    # Everything the sandbox holds from the portal: no trace of the note nor of who took it.
    received = json.dumps(sandbox.case_as_hubee_sees_it(case), ensure_ascii=False)
    received += json.dumps(list(SandboxEvent.objects.filter(case_id=case.id).values()), default=str)
    assert NOTE not in received and "Leroy a appelé" not in received
