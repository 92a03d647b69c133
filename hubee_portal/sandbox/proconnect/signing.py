"""The fake ProConnect's RSA key (kept in the data folder, like the portal's development keys)
and its signed JWTs (RS256, with the key's `kid`)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from hubee_portal.keys import load_or_create

ALGORITHM = "RS256"
KEY_FILE = "sandbox_proconnect_rsa.pem"


def _new_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@functools.cache
def _key(path: Path) -> rsa.RSAPrivateKey:
    pem = load_or_create(path, _new_pem)
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def private_key() -> rsa.RSAPrivateKey:
    return _key(Path(settings.DATA_DIR) / KEY_FILE)


def public_jwk() -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key().public_key()))
    thumb = hashlib.sha256(json.dumps([jwk["e"], jwk["n"]]).encode()).hexdigest()[:16]
    return {**jwk, "kid": thumb, "alg": ALGORITHM, "use": "sig"}


def sign(claims: dict[str, Any]) -> str:
    return jwt.encode(
        claims, private_key(), algorithm=ALGORITHM, headers={"kid": public_jwk()["kid"]}
    )


def verify(token: str, audience: str) -> dict[str, Any]:
    """An ID token of ours (end-session's id_token_hint): signature and audience, any age."""
    return jwt.decode(
        token,
        private_key().public_key(),
        algorithms=[ALGORITHM],
        audience=audience,
        options={"verify_exp": False},
    )
