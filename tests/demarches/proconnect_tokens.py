"""ProConnect's answers for unit tests: tokens signed by a test RSA key (or a wrong one), and
the three endpoints the portal calls, mocked with `responses`."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "cle-de-test"
NONCE = "n" * 32
SIRET = "21060088800015"  # the OrganisationFactory's
SUB = "sub-de-l-agent"


def jwks() -> dict:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}


def sign(claims: dict, key=KEY, algorithm: str = "RS256") -> str:
    if algorithm.startswith("HS"):
        key = settings.OIDC_RP_CLIENT_SECRET
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": KID})


def _base(**changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": settings.PROCONNECT_ISSUER,
        "aud": settings.OIDC_RP_CLIENT_ID,
        "sub": SUB,
        "iat": now,
        "exp": now + 300,
    }
    return {**claims, **changes}


def id_claims(**changes) -> dict:
    return _base(**{"nonce": NONCE, "acr": "eidas1", "amr": ["pwd"], **changes})


def userinfo(**changes) -> dict:
    claims = {
        "email": "Agent.Nice@Mairie-Nice.fr",
        "given_name": "Camille",
        "usual_name": "Martin",
        "siret": SIRET,
        "idp_id": "fi-de-test",
    }
    return _base(**{**claims, **changes})


def mock_provider(rsps, id_token: str, info: str, token_status: int = 200) -> None:
    rsps.post(
        settings.OIDC_OP_TOKEN_ENDPOINT,
        status=token_status,
        json={"access_token": "at", "token_type": "Bearer", "id_token": id_token}
        if token_status == 200
        else {"error": "invalid_grant", "error_description": "grant request is invalid"},
    )
    rsps.get(settings.OIDC_OP_JWKS_ENDPOINT, json=jwks())
    rsps.get(settings.OIDC_OP_USER_ENDPOINT, body=info, content_type="application/jwt")
