"""At 320 px and with the keyboard only, an agent reads a piece's type in words and reaches its
HubEE code, MIME type and digest behind « Détails techniques »."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demarches.models import AttachmentTypeLabel
from dossiers.models import Dossier
from tests.browser.test_browser_agent import live_portal, log_in
from tests.dossiers.conftest import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_type_label_and_technical_details_by_keyboard_at_320_px(page, live_server, tmp_path):
    # Written here: an earlier transactional test may have flushed the migration's rows.
    AttachmentTypeLabel.objects.update_or_create(
        code="ji", defaults={"label": "Pièce d'identité", "assumed": True}
    )
    portal = live_portal(live_server, tmp_path, process_code="recensementCitoyen")
    case = portal.deposit(
        files=[("identite.pdf", "ji", "application/pdf", pdf_bytes("identité", 1300))]
    )
    portal.sync()
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    piece = dossier.pieces_jointes.get()

    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, portal.url)
    page.goto(f"{portal.url}/dossiers/{dossier.pk}/")
    row = page.get_by_role("table", name="Pièces jointes du dossier").locator("tbody tr").first
    expect(row).to_contain_text("Pièce d'identité (type supposé)")
    expect(row.get_by_title("Code HubEE : ji")).to_be_visible()
    code = row.locator("dl.tech code").first
    expect(code).to_be_hidden()  # closed until asked for

    summary = row.get_by_text("Détails techniques")
    summary.focus()
    page.keyboard.press("Enter")
    expect(code).to_have_text("ji")
    expect(code).to_be_visible()
    expect(row.get_by_text(piece.sha256)).to_be_visible()
    expect(row.get_by_text("application/pdf")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"la page déborde : {width} px"
