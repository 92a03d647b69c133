"""ProConnect's settings (docs/proconnect.md), read from the environment by hubee_portal.settings.

Agents sign in with their professional identity, through mozilla-django-oidc. On when
PROCONNECT_URL, PROCONNECT_CLIENT_ID and PROCONNECT_CLIENT_SECRET are all set; in development
with the sandbox, the fake ProConnect of /sandbox/proconnect/ by default (`make run`). Apart
from the settings module only to keep it readable: every name returned becomes a setting.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from hubee_portal import keys

PROCONNECT_SANDBOX_PATH = "/sandbox/proconnect/api/v2"


def from_environment(env, *, fake: bool, base_url: str, secret_key: str) -> dict[str, object]:
    """The PROCONNECT_* and OIDC_* settings; `fake`: development with the sandbox on."""
    PROCONNECT_URL = env.str(
        "PROCONNECT_URL", default=base_url + PROCONNECT_SANDBOX_PATH if fake else ""
    ).rstrip("/")
    PROCONNECT_CLIENT_ID = env.str(
        "PROCONNECT_CLIENT_ID", default="hubee-portal-bac-a-sable" if fake else ""
    )
    PROCONNECT_CLIENT_SECRET = env.str(
        "PROCONNECT_CLIENT_SECRET",
        # The fake provider reads it from here too: derived, so no secret sits in the code.
        default=keys.derived(secret_key, "proconnect-sandbox") if fake else "",
    )
    _proconnect_set = [
        bool(PROCONNECT_URL),
        bool(PROCONNECT_CLIENT_ID),
        bool(PROCONNECT_CLIENT_SECRET),
    ]
    if any(_proconnect_set) and not all(_proconnect_set):
        raise ImproperlyConfigured(
            "ProConnect demande PROCONNECT_URL, PROCONNECT_CLIENT_ID et "
            "PROCONNECT_CLIENT_SECRET ensemble (voir docs/proconnect.md) ; laissez-les vides "
            "tous les trois pour s'en passer."
        )
    PROCONNECT_ENABLED = all(_proconnect_set)
    # The `iss` of ProConnect's tokens: its URL unless its discovery document says otherwise.
    PROCONNECT_ISSUER = env.str("PROCONNECT_ISSUER", default=PROCONNECT_URL).rstrip("/")
    # `idp_id` (which identity provider the agent used) is refused to some older ProConnect setups.
    PROCONNECT_SCOPE_IDP_ID = env.bool("PROCONNECT_SCOPE_IDP_ID", default=True)
    # acr_values of an ordinary login (the step-up asks for the MFA levels, as essential).
    PROCONNECT_ACR_VALUES = env.str("PROCONNECT_ACR_VALUES", default="eidas1")
    # SIRETs accepted besides those of the portal's organisations (a hosting syndicat's, say).
    PROCONNECT_EXTRA_SIRETS = [
        siret.replace(" ", "") for siret in env.list("PROCONNECT_EXTRA_SIRETS", default=[])
    ]
    # true: agents (not staff) sign in with ProConnect only, never with a password.
    PROCONNECT_ONLY_AGENTS = env.bool("PROCONNECT_ONLY_AGENTS", default=False)
    # Whom an agent refused at login should ask (a service, a phone number, an address).
    PROCONNECT_SUPPORT_CONTACT = env.str("PROCONNECT_SUPPORT_CONTACT", default="")
    PROCONNECT_TIMEOUT = env.float("PROCONNECT_TIMEOUT", default=10.0)
    # The browser-facing endpoints of the fake are relative: it works from any address `make run
    # HOST=0.0.0.0` is reached at; the portal calls the others itself.
    _browser_base = (
        PROCONNECT_SANDBOX_PATH
        if fake and not env.str("PROCONNECT_URL", default="")
        else PROCONNECT_URL
    )
    OIDC_RP_CLIENT_ID = PROCONNECT_CLIENT_ID
    OIDC_RP_CLIENT_SECRET = PROCONNECT_CLIENT_SECRET
    OIDC_OP_AUTHORIZATION_ENDPOINT = f"{_browser_base}/authorize"
    OIDC_OP_TOKEN_ENDPOINT = f"{PROCONNECT_URL}/token"
    OIDC_OP_USER_ENDPOINT = f"{PROCONNECT_URL}/userinfo"
    OIDC_OP_JWKS_ENDPOINT = f"{PROCONNECT_URL}/jwks"
    PROCONNECT_END_SESSION_ENDPOINT = f"{_browser_base}/session/end"
    # One algorithm checks both the ID token and the signed userinfo: register RS256 for both.
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_SCOPES = "openid email given_name usual_name siret" + (
        " idp_id" if PROCONNECT_SCOPE_IDP_ID else ""
    )
    OIDC_USE_NONCE = True
    OIDC_CREATE_USER = False  # an administrator creates or invites every agent
    OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the logout
    OIDC_TIMEOUT = PROCONNECT_TIMEOUT
    OIDC_OP_LOGOUT_URL_METHOD = "demarches.proconnect.logout.end_session_url"
    return {
        name: value for name, value in locals().items() if name.startswith(("PROCONNECT_", "OIDC_"))
    } | {"PROCONNECT_SANDBOX_PATH": PROCONNECT_SANDBOX_PATH}
