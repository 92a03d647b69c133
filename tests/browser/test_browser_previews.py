"""An agent previews a PDF's pages and a JPEG scan in a real browser, without downloading them,
at desktop width and at 320 px."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import expect

from dossiers.models import AuditEntry
from hubee_portal.sandbox.content import identity_scan, make_pdf
from tests.browser.test_browser_agent import live_portal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def loaded(image) -> bool:
    """Whether the image is decoded, waiting for it: visible only means laid out."""
    return image.evaluate(
        "(img) => img.decode().then(() => img.complete && img.naturalWidth > 0, () => false)"
    )


def test_agent_previews_a_pdf_page_and_a_scan(page, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    releve = make_pdf("Relevé de situation", [f"Ligne {n}" for n in range(80)])
    case = portal.deposit(
        files=[
            ("releve.pdf", "ActeEtatCivil-PDF", "application/pdf", releve),
            ("scan-identite.jpg", "scan", "image/jpeg", identity_scan(random.Random(8))),
        ]
    )
    portal.sync()
    log_in(page, portal.url)
    page.goto(f"{portal.url}/dossiers/")
    page.get_by_role("link", name=case.external_id).click()

    # The PDF: its pages as images, the first one drawn.
    page.get_by_role("link", name="Aperçu de releve.pdf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu de releve.pdf")
    expect(page).to_have_title(
        f"Aperçu de releve.pdf — dossier {case.external_id} — Dossiers — Commune de Nice"
    )
    first = page.get_by_role("img", name="Page 1 sur 2 de releve.pdf")
    expect(first).to_be_visible()
    assert loaded(first)
    expect(page.get_by_role("img", name="Page 2 sur 2 de releve.pdf")).to_have_count(1)
    expect(page.get_by_role("link", name="Télécharger le fichier releve.pdf")).to_be_visible()

    # At 320 px the page image shrinks to the screen: nothing to scroll sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert first.bounding_box()["width"] <= 320
    page.set_viewport_size({"width": 1280, "height": 800})

    # The scan, re-encoded by the portal.
    page.get_by_role("link", name=f"← Retour au dossier {case.external_id}").click()
    page.get_by_role("link", name="Aperçu de scan-identite.jpg").click()
    scan = page.get_by_role("img", name="Page 1 sur 1 de scan-identite.jpg")
    expect(scan).to_be_visible()
    assert loaded(scan)
    assert scan.evaluate("(img) => img.naturalWidth") == 512
    assert AuditEntry.objects.filter(action="preview").count() == 2
