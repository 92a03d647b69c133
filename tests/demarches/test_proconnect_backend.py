"""The ProConnect backend: token validation failures and who it lets in (issue 20)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from demarches.identities import ProConnectIdentity
from demarches.proconnect import refusals
from demarches.proconnect.backend import ProConnectBackend
from tests.demarches import proconnect_tokens as op
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(proconnect_agent):
    return proconnect_agent


def sign_in(rsps, id_token=None, info=None, nonce=op.NONCE, **status):
    op.mock_provider(
        rsps,
        id_token or op.sign(op.id_claims()),
        info or op.sign(op.userinfo()),
        **status,
    )
    request = RequestFactory().get("/oidc/callback/", {"code": "code", "state": "s" * 32})
    SessionMiddleware(lambda r: None).process_request(request)
    user = ProConnectBackend().authenticate(request, nonce=nonce, code_verifier=None)
    return user, getattr(request, "proconnect_refusal", None)


def test_a_valid_login_matches_the_email_case_insensitively_and_links_the_identity(rsps, agent):
    user, refusal = sign_in(rsps)
    assert (user, refusal) == (agent, None)
    identity = ProConnectIdentity.objects.get(user=agent)
    assert (identity.sub, identity.idp_id) == (op.SUB, "fi-de-test")
    agent.refresh_from_db()
    assert (agent.first_name, agent.last_name) == ("Camille", "Martin")


@pytest.mark.parametrize(
    "id_token",
    [
        pytest.param(op.sign(op.id_claims(), key=op.OTHER_KEY), id="bad-signature"),
        pytest.param(op.sign(op.id_claims(aud="un-autre-service")), id="wrong-audience"),
        pytest.param(
            op.sign(op.id_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
            id="expired",
        ),
        pytest.param(op.sign(op.id_claims(nonce="x" * 32)), id="wrong-nonce"),
        pytest.param(op.sign(op.id_claims(iss="https://faux.example/api/v2")), id="wrong-issuer"),
        pytest.param(op.sign(op.id_claims(), algorithm="HS256"), id="algorithm-not-pinned"),
        pytest.param("pas-un-jwt", id="garbage"),
    ],
)
def test_an_invalid_id_token_is_refused(rsps, agent, id_token):
    assert sign_in(rsps, id_token=id_token) == (None, refusals.INVALID)
    assert not ProConnectIdentity.objects.exists()


@pytest.mark.parametrize(
    "info",
    [
        pytest.param(op.sign(op.userinfo(), key=op.OTHER_KEY), id="bad-signature"),
        pytest.param(op.sign(op.userinfo(aud="un-autre-service")), id="wrong-audience"),
        pytest.param(op.sign(op.userinfo(sub="un-autre-sub")), id="another-sub"),
        pytest.param(op.sign(op.userinfo(email="")), id="no-email"),
    ],
)
def test_an_invalid_userinfo_is_refused(rsps, agent, info):
    assert sign_in(rsps, info=info) == (None, refusals.INVALID)


def test_a_provider_error_on_the_token_endpoint_is_refused(rsps, agent):
    assert sign_in(rsps, token_status=400) == (None, refusals.PROVIDER)


def test_an_unknown_email_is_refused(rsps, agent):
    info = op.sign(op.userinfo(email="personne@mairie-nice.fr"))
    assert sign_in(rsps, info=info) == (None, refusals.UNKNOWN)


def test_a_duplicate_email_among_active_users_is_refused(rsps, agent):
    UserFactory(username="homonyme", email="AGENT.NICE@mairie-nice.fr")
    assert sign_in(rsps) == (None, refusals.DUPLICATE)


def test_an_inactive_homonym_does_not_block_the_active_account(rsps, agent):
    UserFactory(username="ancien", email="agent.nice@mairie-nice.fr", is_active=False)
    assert sign_in(rsps) == (agent, None)


def test_an_inactive_account_is_refused_by_email_and_by_sub(rsps, agent):
    assert sign_in(rsps)[0] == agent
    get_user_model().objects.filter(pk=agent.pk).update(is_active=False)
    assert sign_in(rsps) == (None, refusals.INACTIVE)
    ProConnectIdentity.objects.all().delete()
    assert sign_in(rsps) == (None, refusals.INACTIVE)


def test_after_the_first_login_the_sub_decides_not_the_email(rsps, agent):
    assert sign_in(rsps)[0] == agent
    get_user_model().objects.filter(pk=agent.pk).update(email="nouvelle@mairie-nice.fr")
    # Same sub, whatever the e-mail says now; names follow the claims at each login.
    user, _ = sign_in(rsps, info=op.sign(op.userinfo(given_name="Camille Anne")))
    assert user == agent
    agent.refresh_from_db()
    assert agent.first_name == "Camille Anne"
    # Another sub with the account's e-mail: not linked behind the agent's back.
    other = op.userinfo(sub="autre-sub", email="nouvelle@mairie-nice.fr")
    id_token = op.sign(op.id_claims(sub="autre-sub"))
    assert sign_in(rsps, id_token=id_token, info=op.sign(other)) == (
        None,
        refusals.OTHER_IDENTITY,
    )


def test_a_siret_of_no_organisation_is_refused_unless_listed(rsps, agent, settings):
    info = op.sign(op.userinfo(siret="21130055300016"))
    assert sign_in(rsps, info=info) == (None, refusals.SIRET)
    settings.PROCONNECT_EXTRA_SIRETS = ["21130055300016"]
    assert sign_in(rsps, info=info) == (agent, None)


def test_nothing_happens_while_proconnect_is_off(rsps, agent, settings):
    settings.PROCONNECT_ENABLED = False
    assert sign_in(rsps) == (None, None)
    assert not rsps.calls
