"""The administrator's side in a real browser (Debian's Chromium): the integrity block of the
dashboard, the « État du portail » page (checked with axe-core), and the agent's CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from dossiers.models import Dossier, PieceJointe
from dossiers.operations import health
from dossiers.operations.integrity import verify_demarche
from tests.browser.test_browser_agent import live_portal, log_in
from tests.browser.test_browser_agent_a11y import check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_sees_integrity_then_the_state_of_the_portal(page, live_server, tmp_path, settings):
    settings.ADMINS = [("Informatique", "informatique@mairie.fr")]
    portal = live_portal(live_server, tmp_path)
    portal.demarche.agents.add(portal.agent)
    type(portal.agent).objects.filter(pk=portal.agent.pk).update(is_staff=True)
    portal.deposit()
    portal.sync()
    health.beat()
    # Someone edits a stored file by hand: the weekly check finds it.
    piece = PieceJointe.objects.get()
    piece.absolute_path.write_bytes(b"modifie a la main")
    verify_demarche(portal.demarche)

    log_in(page, live_server.url)
    integrity = page.locator("#integrite + table")
    expect(integrity).to_contain_text("À examiner")
    expect(integrity).to_contain_text(portal.demarche.name)

    page.get_by_role("link", name="État du portail").click()
    expect(page.get_by_role("heading", name="Santé")).to_be_visible()
    # The altered file is a problem that needs a person, and the only one.
    expect(page.locator("#content-main")).to_contain_text("1 problème demande votre attention.")
    expect(page.locator("#problemes")).to_contain_text("0 fichier(s) manquant(s) et 1 altéré(s)")
    row = page.get_by_role("row", name=portal.demarche.name)
    expect(row).to_contain_text("0 manquant, 1 altéré")
    expect(row).to_contain_text("mois après un statut final")
    expect(page.locator("#content-main")).to_contain_text("informatique@mairie.fr")
    check(page, Axe(), "État du portail")

    # The admin's first page says the same, with the way to this page.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#etat-portail")).to_contain_text("1 problème demande votre attention.")
    check(page, Axe(), "admin index")


def test_agent_exports_the_filtered_list(page, live_server, tmp_path):
    portal = live_portal(live_server, tmp_path)
    portal.deposit(applicant={"firstName": "Anne", "lastName": "Martin", "email": "a@ex.fr"})
    portal.deposit(applicant={"firstName": "Paul", "lastName": "Durand", "email": "p@ex.fr"})
    portal.sync()
    assert Dossier.objects.count() == 2

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/dossiers/?q=Durand")
    link = page.get_by_role("link", name="Exporter ce dossier (CSV, tableur)")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = download.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 2  # header and Paul Durand only
    assert "Durand" in rows[1] and not any("Martin" in cell for cell in rows[1])
