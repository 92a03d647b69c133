"""ProConnect's pages with Django's test client, the provider mocked (issue 20): the session
keys of the contract with the second factor, the step-up, logout, the login page with and
without ProConnect, `check --deploy`."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import checks
from django.urls import reverse

from demarches.proconnect import config
from demarches.proconnect.checks import PROCONNECT_URL_REFUSED
from tests.demarches import proconnect_tokens as op
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEXT = "/dossiers/"


@pytest.fixture
def agent(proconnect_agent):
    return proconnect_agent


def authorize(client, path: str) -> dict[str, str]:
    """Follow the portal to ProConnect's authorize endpoint: its query."""
    response = client.get(path)
    assert response.status_code == 302
    url = urlsplit(response.url)
    assert url.path.endswith("/authorize")
    return {key: values[0] for key, values in parse_qs(url.query).items()}


def callback(client, rsps, params, *, nonce=None, **id_changes):
    nonce = nonce or params["nonce"]
    op.mock_provider(rsps, op.sign(op.id_claims(nonce=nonce, **id_changes)), op.sign(op.userinfo()))
    return client.get(
        reverse("oidc_authentication_callback"), {"code": "c", "state": params["state"]}
    )


def test_the_authorization_request_asks_what_proconnect_documents(client):
    params = authorize(client, reverse("proconnect-login") + f"?next={NEXT}")
    assert params["scope"] == "openid email given_name usual_name siret idp_id"
    assert params["acr_values"] == "eidas1"
    assert json.loads(params["claims"]) == {"id_token": {"amr": None, "acr": None}}
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32


def test_a_login_sets_the_session_keys_and_mfa_only_when_the_token_shows_it(client, rsps, agent):
    response = callback(
        client, rsps, authorize(client, reverse("proconnect-login") + f"?next={NEXT}")
    )
    assert response.url == NEXT
    assert client.session[config.LOGIN_METHOD] == "proconnect"
    assert config.MFA not in client.session
    client.logout()
    callback(
        client, rsps, authorize(client, reverse("proconnect-login")), amr=["pwd", "otp", "mfa"]
    )
    assert client.session[config.MFA] == "proconnect"
    client.logout()
    callback(client, rsps, authorize(client, reverse("proconnect-login")), acr="eidas2", amr=[])
    assert client.session[config.MFA] == "proconnect"


def test_a_wrong_state_or_nonce_lands_on_the_refusal_page(client, rsps, agent):
    params = authorize(client, reverse("proconnect-login"))
    response = callback(client, rsps, {**params, "state": "s" * 32})
    assert response.url == reverse("proconnect-refused", args=["session-expiree"])
    params = authorize(client, reverse("proconnect-login"))
    response = callback(client, rsps, params, nonce="x" * 32)
    assert response.url == reverse("proconnect-refused", args=["reponse-invalide"])
    assert "_auth_user_id" not in client.session


def test_the_refusal_page_says_whom_to_ask(client, settings):
    settings.PROCONNECT_SUPPORT_CONTACT = "le service informatique, poste 4242"
    page = client.get(reverse("proconnect-refused", args=["organisation"]))
    assert page.status_code == 200
    assert "le service informatique, poste 4242" in page.content.decode()
    assert client.get(reverse("proconnect-refused", args=["inconnu"])).status_code == 404


def test_step_up_succeeds_once_with_mfa_and_keeps_the_agent(client, rsps, agent):
    callback(client, rsps, authorize(client, reverse("proconnect-login")))
    params = authorize(client, reverse("proconnect-step-up") + f"?next={NEXT}")
    assert json.loads(params["claims"])["id_token"]["acr"] == {
        "essential": True,
        "values": ["eidas0-mfa", "eidas1-mfa", "eidas2", "eidas3"],
    }
    assert client.session[config.STEP_UP_TRIED] is True
    response = callback(client, rsps, params, acr="eidas1-mfa")
    assert response.url == NEXT
    assert client.session[config.MFA] == "proconnect"
    assert client.session["_auth_user_id"] == str(agent.pk)


@pytest.mark.parametrize("answer", ["error", "no-mfa"])
def test_a_failed_step_up_goes_to_the_portal_second_factor_once(client, rsps, agent, answer):
    callback(client, rsps, authorize(client, reverse("proconnect-login")))
    params = authorize(client, reverse("proconnect-step-up") + f"?next={NEXT}")
    if answer == "error":
        response = client.get(
            reverse("oidc_authentication_callback"),
            {"error": "unmet_authentication_requirements", "state": params["state"]},
        )
    else:
        response = callback(client, rsps, params)
    second_factor = config.second_factor_url(NEXT)
    assert response.url == second_factor
    assert config.MFA not in client.session
    assert client.session["_auth_user_id"] == str(agent.pk)  # still logged in
    # No loop: the next step-up goes straight to the portal's second factor.
    assert client.get(reverse("proconnect-step-up") + f"?next={NEXT}").url == second_factor


def test_step_up_after_a_password_login_goes_to_the_portal_second_factor(client, agent):
    client.force_login(agent)
    response = client.get(reverse("proconnect-step-up") + f"?next={NEXT}")
    assert response.url == config.second_factor_url(NEXT)


def test_logout_ends_the_proconnect_session(client, rsps, agent):
    callback(client, rsps, authorize(client, reverse("proconnect-login")))
    id_token = client.session["oidc_id_token"]
    response = client.post(reverse("logout"))
    url = urlsplit(response.url)
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert url.path.endswith("/session/end")
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == "http://testserver" + reverse(
        "proconnect-logged-out"
    )
    assert "_auth_user_id" not in client.session
    back = client.get(reverse("proconnect-logged-out"), {"state": query["state"]})
    assert back.url == reverse("login")
    # A password session logs out locally.
    client.force_login(agent)
    assert client.post(reverse("logout")).url == reverse("login")


def test_without_proconnect_the_login_page_is_the_password_form(client, agent, settings):
    settings.PROCONNECT_ENABLED = False
    page = client.get(reverse("login")).content.decode()
    assert "S'identifier avec ProConnect" not in page
    assert client.get(reverse("proconnect-login")).status_code == 404
    response = client.post(
        reverse("login"), {"username": "agent.nice", "password": "mot-de-passe-de-test"}
    )
    assert response.status_code == 302


def test_agents_may_be_kept_from_passwords(client, agent, settings):
    assert "S'identifier avec ProConnect" in client.get(reverse("login")).content.decode()
    settings.PROCONNECT_ONLY_AGENTS = True
    refused = client.post(
        reverse("login"), {"username": "agent.nice", "password": "mot-de-passe-de-test"}
    )
    assert "Les agents se connectent avec ProConnect" in refused.content.decode()
    UserFactory(username="tech", is_staff=True)
    staff = client.post(reverse("login"), {"username": "tech", "password": "mot-de-passe-de-test"})
    assert staff.status_code == 302


def _errors():
    return [
        m
        for m in checks.run_checks(include_deployment_checks=True, tags=["security"])
        if m.id == PROCONNECT_URL_REFUSED
    ]


def test_check_deploy_refuses_the_sandbox_or_http_in_production(settings):
    settings.DEBUG = False
    assert len(_errors()) == 6  # the fake of the sandbox, over http
    real = "https://auth.agentconnect.gouv.fr/api/v2"
    for name in (
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
        "PROCONNECT_END_SESSION_ENDPOINT",
    ):
        setattr(settings, name, f"{real}/x")
    settings.PROCONNECT_ISSUER = real
    assert _errors() == []
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://auth.agentconnect.gouv.fr/sandbox/token"
    assert len(_errors()) == 1
    settings.PROCONNECT_ENABLED = False
    assert _errors() == []


def test_an_agent_kept_from_passwords_is_invited_to_sign_in_with_proconnect(agent, settings):
    from django.core import mail

    from demarches import invitations

    settings.PROCONNECT_ONLY_AGENTS = True
    invitations.invite(agent)
    [message] = mail.outbox
    assert "connectez-vous avec ProConnect" in message.subject
    assert "S'identifier avec ProConnect" in message.body
    assert settings.PORTAL_BASE_URL + reverse("login") in message.body
    assert "/mot-de-passe/" not in message.body


def refused_login(client, rsps):
    params = authorize(client, reverse("proconnect-login"))
    unknown = op.sign(op.userinfo(email="personne@mairie-nice.fr"))
    op.mock_provider(rsps, op.sign(op.id_claims(nonce=params["nonce"])), unknown)
    response = client.get(
        reverse("oidc_authentication_callback"), {"code": "c", "state": params["state"]}
    )
    assert response.url == reverse("proconnect-refused", args=["compte-inconnu"])


def test_after_a_refusal_the_logout_ends_proconnect_until_someone_logs_in(client, rsps, agent):
    refused_login(client, rsps)
    page = client.get(reverse("proconnect-refused", args=["compte-inconnu"])).content.decode()
    assert "Se connecter avec un autre compte ProConnect" in page
    ends = urlsplit(client.post(reverse("oidc_logout")).url)
    assert ends.path.endswith("/session/end") and "id_token_hint" in parse_qs(ends.query)
    refused_login(client, rsps)
    client.force_login(agent)
    assert client.post(reverse("logout")).url == reverse("login")
