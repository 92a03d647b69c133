"""The portal's ProConnect settings pointed at the fake ProConnect of a live server: the
browser-facing endpoints are relative already, the ones the portal calls take the server's
address."""

from __future__ import annotations


def use_fake_proconnect(settings, url: str) -> str:
    base = url + settings.PROCONNECT_SANDBOX_PATH
    settings.PROCONNECT_ENABLED = True
    settings.PROCONNECT_ISSUER = base
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/jwks"
    return base
