"""The second factor in a real browser (issue 20): a staff member enrols an authenticator app
and logs in again with a recovery code; an agent confirms a TOTP before a CERTDC dossier opens."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from dossiers.models import Dossier
from tests.browser.test_browser_agent import RULES, enter_totp, live_portal, log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_enrols_then_logs_in_with_a_recovery_code(page, live_server):
    UserFactory(username="tech", is_staff=True)
    log_in(page, live_server.url, "tech", second_factor=False)

    expect(page).to_have_title(re.compile(r"^Activer la double authentification — "))
    # What a person types into the app: the key as shown, in groups of four.
    key = "".join(page.locator(".secret code").all_inner_texts())
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    expect(page.get_by_role("img", name="QR code de configuration")).to_be_visible()
    code = f"{totp(base64.b32decode(key)):06d}"
    field = page.get_by_label("Code à 6 chiffres")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    field.fill(code)
    page.get_by_role("button", name="Activer").click()

    expect(page).to_have_title(re.compile(r"^Codes de secours — "))
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")

    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, live_server.url, "tech", second_factor=False)
    expect(page).to_have_title(re.compile(r"^Double authentification — "))
    page.get_by_label("Code de secours").fill(codes[3])
    page.get_by_role("button", name="Utiliser le code de secours").click()
    expect(page.get_by_role("status")).to_contain_text("Code de secours accepté")
    expect(page.get_by_text("Il vous reste 9 codes de secours")).to_be_visible()
    page.get_by_role("link", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def test_agent_confirms_a_totp_before_a_certdc_dossier_opens(page, live_server, tmp_path):
    portal = live_portal(
        live_server,
        tmp_path,
        "CERTDC",
        rules={**RULES, "automatic_status": "SI_RECEIVED", "sensitive": True},
        name="Certificats de décès",
    )
    portal.deposit(applicant={"firstName": "Camille", "lastName": "Lefebvre"})
    portal.sync()
    dossier = Dossier.objects.get()

    log_in(page, portal.url)  # no second factor for the dashboard and the list
    page.goto(f"{portal.url}/dossiers/")
    page.get_by_role("link", name=re.compile(dossier.external_id)).first.click()

    enter_totp(page, portal.agent)
    expect(page.get_by_role("heading", level=1)).to_contain_text(dossier.external_id)
