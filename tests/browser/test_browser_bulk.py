"""Twenty recensement dossiers closed as treated in one go, in a real browser: three of them are
closed (two known to the portal, one closed on the citizen's side since the last sync). The
sandbox receives one « Traité » per open dossier, none for the closed ones, and the summary
lists the three with their reason."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from demarches.models import Demarche
from dossiers import tasks
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.exchange.outbound import queue
from dossiers.models import Dossier
from hubee_portal.sandbox import services as sandbox
from tests.browser.test_browser_agent import log_in
from tests.browser.test_browser_conversation import set_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.both_databases,
    pytest.mark.django_db(transaction=True),
]

LOCAL_CLOSED = "Le dossier est clos sur HubEE : plus aucune action n'est possible."
CLOSED_SINCE = "Le dossier a été clos côté usager : plus aucune action n'est possible."


def test_bulk_done_over_twenty_dossiers_three_of_them_closed(page, live_server, tmp_path):
    demarche, subscription = set_up(live_server, tmp_path, "recensementCitoyen")
    cases = [sandbox.deposit_generated_case(subscription, seed=100 + n) for n in range(20)]
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    # Two closed by the operator and synced: the portal knows them closed.
    for case in cases[:2]:
        sandbox.osl_close(case)
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    assert set(
        Dossier.objects.filter(hubee_case_id__in=[c.id for c in cases[:2]]).values_list(
            "status", flat=True
        )
    ) == {"CLOSED"}
    # One closed since the last sync: the portal still believes it open.
    sandbox.osl_close(cases[2])
    before = {case.id: sandbox.status_pushes(case) for case in cases}
    assert all("DONE" not in pushes for pushes in before.values())

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dossiers/?demarche={demarche.pk}")
    boxes = page.locator("form#selection input[type=checkbox][name=dossier]")
    expect(boxes).to_have_count(20)
    page.get_by_role("button", name="Tout sélectionner sur cette page").click()
    for index in range(20):
        expect(boxes.nth(index)).to_be_checked()
    page.get_by_label("Action", exact=True).select_option(label="Clore : demande traitée")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Clore : demande traitée : confirmer")
    excluded = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("^2 dossiers ne peuvent"))
    )
    expect(excluded.locator("li")).to_have_count(2)
    expect(excluded).to_contain_text(LOCAL_CLOSED)
    page.get_by_label(re.compile(r"^Message à chaque usager")).fill(
        "Votre recensement est enregistré : l'attestation suit par courrier."
    )
    # Confirmation is required: without it, a French error and nothing sent.
    page.get_by_role("button", name="Clore ces dossiers : demandes traitées").click()
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case de confirmation")
    assert all("DONE" not in sandbox.status_pushes(case) for case in cases)
    page.get_by_label(re.compile(r"\(obligatoire\)$")).check()
    page.get_by_role("button", name="Clore ces dossiers : demandes traitées").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Résultat de l'action groupée")
    refused = page.locator(
        "section", has=page.get_by_role("heading", name="3 dossiers non traités")
    )
    expect(refused.locator("li")).to_have_count(3)
    closed = {
        str(Dossier.objects.get(hubee_case_id=case.id).external_id): reason
        for case, reason in zip(cases[:3], (LOCAL_CLOSED, LOCAL_CLOSED, CLOSED_SINCE), strict=True)
    }
    for external_id, reason in closed.items():
        expect(refused.locator("li", has_text=external_id)).to_contain_text(reason)
    expect(page.get_by_role("heading", name="17 envois transmis à HubEE")).to_be_visible()

    # Counted on the sandbox side: one « Traité » for each open dossier, none for the closed.
    for case in cases[3:]:
        assert sandbox.status_pushes(case).count("DONE") == 1, case.id
    for case in cases[:3]:
        assert "DONE" not in sandbox.status_pushes(case), case.id


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="la page suit ses envois de la même façon sur les deux moteurs : passe SQLite seule",
)
def test_the_summary_follows_the_sends_without_a_reload(page, live_server, tmp_path, monkeypatch):
    demarche, subscription = set_up(live_server, tmp_path, "recensementCitoyen")
    cases = [sandbox.deposit_generated_case(subscription, seed=200 + n) for n in range(3)]
    sync_demarche(Demarche.objects.get(pk=demarche.pk))
    held: list[int] = []
    monkeypatch.setattr(queue, "request_delivery", held.append)

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dossiers/?demarche={demarche.pk}")
    page.get_by_role("button", name="Tout sélectionner sur cette page").click()
    page.get_by_label("Action", exact=True).select_option(
        label="Prendre en charge (statut « En cours »)"
    )
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label(re.compile(r"\(obligatoire\)$")).check()
    page.get_by_role("button", name="Prendre en charge ces dossiers").click()
    expect(page.get_by_role("heading", name="3 envois en attente d'envoi à HubEE")).to_be_visible()
    assert sorted(held) == sorted(Dossier.objects.values_list("pk", flat=True))

    # The worker sends them: the page says so by itself, heading and live region.
    for dossier_id in held:
        tasks.send_outgoing(dossier_id)
    expect(page.get_by_role("heading", name="3 envois transmis à HubEE")).to_be_visible(
        timeout=15_000
    )
    expect(page.locator("#annonce-envois")).to_have_text(
        "3 envois transmis ; 0 en attente ; 0 dossier non traité."
    )
    for case in cases:
        assert sandbox.status_pushes(case).count("IN_PROGRESS") == 1
