"""`check --deploy`: in production ProConnect is reached over https, never the fake of the
sandbox (/sandbox/), whose identities anyone may pick."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

PROCONNECT_URL_REFUSED = "hubee_portal.E020"


def endpoints() -> dict[str, str]:
    return {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "OIDC_OP_TOKEN_ENDPOINT": settings.OIDC_OP_TOKEN_ENDPOINT,
        "OIDC_OP_USER_ENDPOINT": settings.OIDC_OP_USER_ENDPOINT,
        "OIDC_OP_JWKS_ENDPOINT": settings.OIDC_OP_JWKS_ENDPOINT,
        "PROCONNECT_END_SESSION_ENDPOINT": settings.PROCONNECT_END_SESSION_ENDPOINT,
        "PROCONNECT_ISSUER": settings.PROCONNECT_ISSUER,
    }


@checks.register(checks.Tags.security, deploy=True)
def proconnect_is_real(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    # In development the fake ProConnect of the sandbox is the point (like HubEE's).
    if settings.DEBUG or not settings.PROCONNECT_ENABLED:
        return []
    errors = []
    for name, url in endpoints().items():
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            problem = "n'est pas une adresse https"
        elif "/sandbox/" in parts.path + "/":
            problem = "désigne le faux ProConnect du bac à sable"
        else:
            continue
        errors.append(
            checks.Error(
                f"ProConnect : {name} ({url}) {problem}.",
                hint="Mettez dans PROCONNECT_URL l'adresse de ProConnect, par exemple "
                "https://auth.agentconnect.gouv.fr/api/v2 en production (docs/proconnect.md), "
                "ou retirez PROCONNECT_URL, PROCONNECT_CLIENT_ID et PROCONNECT_CLIENT_SECRET "
                "pour se passer de ProConnect.",
                id=PROCONNECT_URL_REFUSED,
            )
        )
    return errors
