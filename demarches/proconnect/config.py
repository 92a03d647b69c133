"""What the portal asks ProConnect, and the session keys other parts of the portal read.

Session keys (the contract of issue 20 with the second factor):
- LOGIN_METHOD "hubee_login_method": "proconnect" after a ProConnect login;
- MFA "hubee_mfa": "proconnect" when the ID token shows a second factor (`amr` has "mfa", or
  `acr` is a multi-factor level); the TOTP sets "totp";
- STEP_UP_TRIED "hubee_step_up_tried": a step-up was asked in this session, never twice.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse

LOGIN_METHOD = "hubee_login_method"
MFA = "hubee_mfa"
STEP_UP_TRIED = "hubee_step_up_tried"
PROCONNECT = "proconnect"

# The levels where the agent used a second factor (eIDAS levels of ProConnect).
MFA_ACR = ("eidas0-mfa", "eidas1-mfa", "eidas2", "eidas3")


def enabled() -> bool:
    return bool(settings.PROCONNECT_ENABLED)


def _claims(acr: dict | None) -> str:
    # `amr` is sent only when asked; `acr` to read the level (or require one, essential).
    return json.dumps({"id_token": {"amr": None, "acr": acr}}, separators=(",", ":"))


def login_params() -> dict[str, str]:
    return {"acr_values": settings.PROCONNECT_ACR_VALUES, "claims": _claims(None)}


def step_up_params() -> dict[str, str]:
    """MFA required: ProConnect re-authenticates the agent or answers with an error."""
    return {
        "acr_values": " ".join(MFA_ACR),
        "claims": _claims({"essential": True, "values": list(MFA_ACR)}),
    }


def has_mfa(id_claims: dict) -> bool:
    amr = id_claims.get("amr") or []
    if isinstance(amr, str):
        amr = amr.split()
    return "mfa" in amr or id_claims.get("acr") in MFA_ACR


def second_factor_url(next_url: str) -> str:
    """The portal's own second factor (TOTP), the fallback when ProConnect's cannot be had."""
    try:
        path = reverse("second-factor-verify")
    except NoReverseMatch:  # the TOTP pages come with another branch of issue 20
        path = "/connexion/second-facteur/"
    return f"{path}?{urlencode({'next': next_url})}" if next_url else path
