"""Logging out ends the ProConnect session too (OIDC_OP_LOGOUT_URL_METHOD): the browser goes
to ProConnect's end_session endpoint with the ID token as hint, a signed state and our
post-logout address (proconnect-logged-out), which ProConnect must have registered."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from mozilla_django_oidc.views import OIDCLogoutView

from demarches.proconnect import config

logger = logging.getLogger("demarches.proconnect")

STATE_SALT = "demarches.proconnect.logout"
# Set by a refused login: ProConnect signed someone in whom the portal did not let in.
REFUSED = "proconnect_refused"


def end_session_url(request) -> str:
    """Where the logout goes: ProConnect's end_session after a ProConnect login (or a refused
    one), else the portal's own page. The session is flushed right after: the state is signed,
    not stored."""
    session = request.session
    signed_in = session.get(config.LOGIN_METHOD) == config.PROCONNECT
    # A refusal counts only until someone logs in (with a password, say) in this session.
    refused = session.get(REFUSED) and not request.user.is_authenticated
    if not config.enabled() or not (signed_in or refused):
        return resolve_url(settings.LOGOUT_REDIRECT_URL)
    params = {
        "state": signing.dumps(secrets.token_urlsafe(24), salt=STATE_SALT),
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("proconnect-logged-out")),
    }
    id_token = session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    else:
        params["client_id"] = settings.OIDC_RP_CLIENT_ID
    return f"{settings.PROCONNECT_END_SESSION_ENDPOINT}?{urlencode(params)}"


class LogoutView(OIDCLogoutView):
    """« Se déconnecter » (POST): the library's view; after a refused login, the agent is not
    logged in but ProConnect's session is still to end (« un autre compte ProConnect »)."""

    def post(self, request):
        if not request.user.is_authenticated and request.session.get(REFUSED):
            url = end_session_url(request)
            request.session.flush()
            return redirect(url)
        return super().post(request)


@login_not_required
def logged_out(request):
    """ProConnect's way back after its logout: the state must be one we signed."""
    try:
        signing.loads(request.GET.get("state", ""), salt=STATE_SALT, max_age=3600)
    except signing.BadSignature:
        logger.warning("Retour de déconnexion ProConnect avec un état inconnu ou expiré")
        return redirect("login")
    messages.success(
        request,
        "Vous êtes déconnecté du portail et de ProConnect. Vous pouvez vous connecter à "
        "nouveau, avec le même compte ou un autre.",
    )
    return redirect("login")


def is_provider_answer(request, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: the ProConnect callback carries no password to guess."""
    return request.path == reverse("oidc_authentication_callback")
