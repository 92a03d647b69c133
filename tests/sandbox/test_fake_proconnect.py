"""The sandbox's fake ProConnect, endpoint by endpoint, with Django's test client (the whole
flow against the portal runs in tests/browser/test_browser_proconnect.py)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from hubee_portal.demo import seeding
from hubee_portal.sandbox.proconnect.identities import DEMO_AGENT_EMAIL, DEMOVILLE_SIRET

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
MFA = json.dumps({"id_token": {"acr": {"essential": True, "values": ["eidas1-mfa"]}}})


@pytest.fixture
def web() -> Client:
    # tests/sandbox's own `client` is a HubEE client.
    return Client()


def params(**changes) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": settings.PROCONNECT_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": settings.OIDC_RP_SCOPES,
        "state": "s" * 32,
        "nonce": "n" * 32,
        "claims": json.dumps({"id_token": {"amr": None, "acr": None}}),
        **changes,
    }


def query(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.url).query).items()}


def pick(web, identity: str, **changes):
    page = web.get(reverse("sandbox:proconnect-authorize"), params(**changes))
    assert page.status_code == 200
    return web.post(
        reverse("sandbox:proconnect-authorize"),
        {"demande": page.context["request_token"], "identite": identity, "action": "connecter"},
    )


def exchange(web, code: str, **changes):
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": settings.PROCONNECT_CLIENT_ID,
        "client_secret": settings.PROCONNECT_CLIENT_SECRET,
        **changes,
    }
    return web.post(reverse("sandbox:proconnect-token"), body)


def test_the_demo_agent_and_commune_are_the_fake_identities():
    assert seeding.ORGANISATION_SIRET == DEMOVILLE_SIRET
    assert seeding.set_up(dossiers=0).demarches
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username=seeding.AGENT_USERNAME).email == DEMO_AGENT_EMAIL


def test_authorize_knows_one_client_and_its_callback(web):
    url = reverse("sandbox:proconnect-authorize")
    assert web.get(url, params(client_id="autre")).status_code == 400
    assert web.get(url, params(redirect_uri=CALLBACK + "x")).status_code == 400
    assert query(web.get(url, params(prompt="none")))["error"] == "login_required"


def test_a_code_gives_signed_tokens_once(web):
    answer = query(pick(web, "agent-mfa"))
    assert answer["state"] == "s" * 32
    tokens = exchange(web, answer["code"]).json()
    jwks = web.get(reverse("sandbox:proconnect-jwks")).json()["keys"][0]
    key = jwt.PyJWK(jwks)
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["RS256"],
        audience=jwks and settings.PROCONNECT_CLIENT_ID,
    )
    assert (claims["nonce"], claims["acr"], claims["amr"]) == (
        "n" * 32,
        "eidas1-mfa",
        ["pwd", "otp", "mfa"],
    )
    info = web.get(
        reverse("sandbox:proconnect-userinfo"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info["Content-Type"] == "application/jwt"
    user = jwt.decode(
        info.content, key, algorithms=["RS256"], audience=settings.PROCONNECT_CLIENT_ID
    )
    assert (user["email"], user["siret"], user["sub"]) == (
        DEMO_AGENT_EMAIL,
        DEMOVILLE_SIRET,
        claims["sub"],
    )
    # Single use, client_secret_post only, the right secret.
    assert exchange(web, answer["code"]).json()["error"] == "invalid_grant"
    basic = base64.b64encode(b"x:y").decode()
    refused = web.post(
        reverse("sandbox:proconnect-token"), {}, headers={"Authorization": f"Basic {basic}"}
    )
    assert refused.status_code == 401
    answer = query(web.get(reverse("sandbox:proconnect-authorize"), params()))  # signed in
    assert exchange(web, answer["code"], client_secret="faux").status_code == 401


def test_an_essential_mfa_it_cannot_meet_is_an_error_and_sso_needs_it_met(web):
    assert "code" in query(pick(web, "agent"))
    # Signed in at the fake: no page the second time, unless MFA is demanded.
    again = web.get(reverse("sandbox:proconnect-authorize"), params())
    assert "code" in query(again)
    assert web.get(reverse("sandbox:proconnect-authorize"), params(claims=MFA)).status_code == 200
    refused = pick(web, "agent", claims=MFA)
    assert query(refused)["error"] == "unmet_authentication_requirements"


def test_end_session_checks_its_address_and_ends_the_fake_session(web):
    pick(web, "agent")
    url = reverse("sandbox:proconnect-end-session")
    back = "http://testserver" + reverse("proconnect-logged-out")
    mine = {"state": "e" * 32, "client_id": settings.PROCONNECT_CLIENT_ID}
    assert web.get(url, {**mine, "post_logout_redirect_uri": back + "x"}).status_code == 400
    response = web.get(url, {**mine, "post_logout_redirect_uri": back})
    assert response.status_code == 303
    assert query(response)["state"] == "e" * 32
    assert web.get(reverse("sandbox:proconnect-authorize"), params()).status_code == 200
