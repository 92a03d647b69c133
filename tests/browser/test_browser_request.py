"""« La demande » in a real browser: an agent opens a dossier of each sandbox démarche,
deposited with the files the sandbox generates, and reads its summary; on a CertDC dossier
the agent opens the sensitive section, and the opening is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, Dossier
from hubee_portal.sandbox import services as sandbox
from tests.browser.test_browser_agent import live_portal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What each démarche's summary shows first, and one section it must hold.
EXPECTED = {
    "EtatCivil": ("Demande d'acte de", "Acte demandé"),
    "recensementCitoyen": ("Recensement citoyen obligatoire", "Personne recensée"),
    "depotDossierPACS": ("pacte civil de solidarité", "Partenaire 2"),
    "JeChangeDeCoordonnees": ("changement de coordonnées", "Changement d'adresse"),
    "CERTDC": ("Déclaration de décès", "Personne décédée"),
}


def open_generated_dossier(page: Page, live_server, tmp_path, code: str) -> Dossier:
    portal = live_portal(live_server, tmp_path, process_code=code)
    case = sandbox.deposit_generated_case(portal.demarche.subscription, seed=21)
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    log_in(page, portal.url)
    page.goto(portal.url + reverse("dossiers:detail", args=[dossier.pk]))
    return dossier


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_agent_reads_the_request_of_each_sandbox_demarche(page, live_server, tmp_path, code):
    open_generated_dossier(page, live_server, tmp_path, code)
    title, section = EXPECTED[code]
    demande = page.locator("section", has=page.get_by_role("heading", name="La demande"))
    expect(demande.get_by_role("heading", level=3).first).to_contain_text(title)
    expect(demande.get_by_role("heading", name=section, exact=True).first).to_be_visible()
    # Dates are written in French, never as ISO.
    assert not any(
        text[:4].isdigit() and text[4:5] == "-" for text in demande.locator("dd").all_inner_texts()
    )


def test_agent_opens_the_sensitive_section_of_a_certdc_dossier(page, live_server, tmp_path):
    dossier = open_generated_dossier(page, live_server, tmp_path, "CERTDC")
    sensitive = page.locator("#informations-sensibles")
    expect(sensitive).to_contain_text("consultation est enregistrée dans le journal d'audit")
    expect(sensitive).not_to_contain_text("Obstacle médico-légal")
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()

    sensitive.get_by_role("link", name="Afficher les informations sensibles").click()
    expect(sensitive).to_contain_text("Obstacle médico-légal")
    expect(sensitive).to_contain_text("a été enregistrée dans le journal d'audit")
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_SENSITIVE)
    assert entry.dossier_id == dossier.pk and entry.username == "agent.nice"

    sensitive.get_by_role("link", name="Masquer les informations sensibles").click()
    expect(sensitive).not_to_contain_text("Obstacle médico-légal")
