"""The fake ProConnect's endpoints (see the package's docstring). It knows one client, the
portal itself (PROCONNECT_CLIENT_ID / _SECRET), and its registered addresses: the callback and
the post-logout page of the portal this server serves.

Its own session (« connected to ProConnect ») is a signed cookie under its path: a second
login goes through without the page, as on ProConnect, until end-session removes it."""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import signing as jws
from .identities import BY_KEY, IDENTITIES, Identity

logger = logging.getLogger(__name__)

SESSION_COOKIE = "fake_proconnect_session"
CODE_SALT = "sandbox.proconnect.code"
TOKEN_SALT = "sandbox.proconnect.access"  # noqa: S105 (a salt, not a secret)
REQUEST_SALT = "sandbox.proconnect.request"
CODE_SECONDS = 60
TOKEN_SECONDS = 3600
SCOPES = "openid given_name usual_name email uid siret idp_id organization_label roles"
MFA_ACR = ["eidas0-mfa", "eidas1-mfa", "eidas2", "eidas3"]
ACR = ["eidas0", "eidas1", *MFA_ACR]


def issuer(request: HttpRequest) -> str:
    return request.build_absolute_uri(settings.PROCONNECT_SANDBOX_PATH)


def _absolute(request: HttpRequest, name: str) -> str:
    return request.build_absolute_uri(reverse(name))


def _redirect(uri: str, **params: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{uri}?{urlencode(params)}")


@login_not_required
@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    base = issuer(request)
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/session/end",
            "jwks_uri": f"{base}/jwks",
            "scopes_supported": SCOPES.split(),
            "claims_supported": [
                "sub",
                "given_name",
                "usual_name",
                "email",
                "uid",
                "siret",
                "idp_id",
                "organization_label",
                "amr",
                "acr",
            ],
            "acr_values_supported": ACR,
            "id_token_signing_alg_values_supported": [jws.ALGORITHM],
            "userinfo_signing_alg_values_supported": [jws.ALGORITHM],
            "claims_parameter_supported": True,
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "authorization_response_iss_parameter_supported": True,
        }
    )


@login_not_required
@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"keys": [jws.public_jwk()]})


# -- authorize ---------------------------------------------------------------------------------


def _essential_acr(claims_param: str) -> list[str] | None:
    """The acr values required as essential by the `claims` parameter, None if none."""
    claims = json.loads(claims_param) if claims_param else {}
    acr = ((claims or {}).get("id_token") or {}).get("acr") or {}
    if isinstance(acr, dict) and acr.get("essential"):
        return list(acr.get("values") or ([acr["value"]] if acr.get("value") else ACR))
    return None


def _bad_request(text: str) -> HttpResponse:
    # Like ProConnect: a request it cannot answer to the client is refused on the spot.
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


def _check_request(request: HttpRequest, params: dict[str, str]) -> HttpResponse | None:
    if params.get("client_id") != settings.PROCONNECT_CLIENT_ID:
        return _bad_request("invalid_client : client_id inconnu du faux ProConnect.")
    if params.get("redirect_uri") != _absolute(request, "oidc_authentication_callback"):
        return _bad_request("Y030031 : redirect_uri non enregistrée pour ce client.")
    return None


def _answer_error(params: dict[str, str], error: str, description: str) -> HttpResponseRedirect:
    return _redirect(
        params["redirect_uri"],
        error=error,
        error_description=description,
        state=params.get("state", ""),
    )


def _session(request: HttpRequest) -> dict[str, Any] | None:
    value = request.get_signed_cookie(SESSION_COOKIE, default=None, salt=SESSION_COOKIE)
    session = json.loads(value) if value else None
    return session if session and session.get("identity") in BY_KEY else None


def _code(request: HttpRequest, params: dict[str, str], session: dict[str, Any]) -> HttpResponse:
    """The code back to the client, and the provider's own session cookie."""
    code = signing.dumps(
        {
            "identity": session["identity"],
            "sid": session["sid"],
            "auth_time": session["auth_time"],
            "nonce": params.get("nonce", ""),
            "scope": params.get("scope", ""),
            "claims": params.get("claims", ""),
            "redirect_uri": params["redirect_uri"],
            "jti": secrets.token_urlsafe(16),
        },
        salt=CODE_SALT,
    )
    response = _redirect(
        params["redirect_uri"], code=code, state=params.get("state", ""), iss=issuer(request)
    )
    response.set_signed_cookie(
        SESSION_COOKIE,
        json.dumps(session),
        salt=SESSION_COOKIE,
        path=settings.PROCONNECT_SANDBOX_PATH + "/",
        httponly=True,
        samesite="Lax",
    )
    return response


def _meets(identity: Identity, essential: list[str] | None) -> bool:
    return essential is None or identity.acr in essential


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _picked(request)
    params = {key: request.GET.get(key, "") for key in request.GET}
    refused = _check_request(request, params)
    if refused:
        return refused
    if params.get("response_type") != "code":
        return _answer_error(params, "unsupported_response_type", "response_type=code seulement")
    if "openid" not in params.get("scope", "").split() or len(params.get("state", "")) < 32:
        return _answer_error(params, "invalid_request", "scope openid et state de 32 caractères")
    try:
        essential = _essential_acr(params.get("claims", ""))
    except (ValueError, AttributeError):
        return _answer_error(params, "invalid_request", "claims n'est pas un JSON valide")
    session = _session(request)
    if session and _meets(BY_KEY[session["identity"]], essential):
        return _code(request, params, session)  # already signed in: no page (SSO)
    if params.get("prompt") == "none":
        return _answer_error(params, "login_required", "aucune session ProConnect")
    context = {
        "identities": IDENTITIES,
        "request_token": signing.dumps(params, salt=REQUEST_SALT),
        "mfa_required": essential is not None,
        "client_id": params["client_id"],
    }
    return render(request, "sandbox/proconnect_authorize.html", context)


def _picked(request: HttpRequest) -> HttpResponse:
    try:
        params = signing.loads(request.POST.get("demande", ""), salt=REQUEST_SALT, max_age=3600)
    except signing.BadSignature:
        return _bad_request("Demande d'autorisation inconnue ou expirée : recommencez.")
    action = request.POST.get("action")
    if action == "annuler":
        return _answer_error(params, "access_denied", "l'utilisateur a annulé la connexion")
    if action == "erreur":
        return _answer_error(params, "server_error", "erreur simulée du faux ProConnect")
    identity = BY_KEY.get(request.POST.get("identite", ""))
    if identity is None:
        return _bad_request("Choisissez une identité de test.")
    if not _meets(identity, _essential_acr(params.get("claims", ""))):
        return _answer_error(
            params,
            "unmet_authentication_requirements",
            "le niveau acr essentiel demandé n'est pas atteint",
        )
    session = {
        "identity": identity.key,
        "sid": secrets.token_urlsafe(16),
        "auth_time": int(time.time()),
    }
    return _code(request, params, session)


# -- token and userinfo ------------------------------------------------------------------------


def _token_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _asked_amr(claims_param: str) -> bool:
    try:
        return "amr" in ((json.loads(claims_param) or {}).get("id_token") or {})
    except (ValueError, AttributeError):
        return False


@csrf_exempt
@login_not_required
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        # ProConnect authenticates clients with client_secret_post (or private_key_jwt).
        return _token_error(401, "invalid_client", "client_secret_basic non accepté")
    client_id = request.POST.get("client_id", "")
    secret = request.POST.get("client_secret", "")
    if client_id != settings.PROCONNECT_CLIENT_ID or not constant_time_compare(
        secret, settings.PROCONNECT_CLIENT_SECRET
    ):
        return _token_error(401, "invalid_client", "client authentication failed")
    if request.POST.get("grant_type") != "authorization_code":
        return _token_error(400, "unsupported_grant_type", "authorization_code seulement")
    try:
        code = signing.loads(request.POST.get("code", ""), salt=CODE_SALT, max_age=CODE_SECONDS)
    except signing.BadSignature:
        return _token_error(400, "invalid_grant", "grant request is invalid")
    if not cache.add(f"fake-proconnect-code:{code['jti']}", True, CODE_SECONDS * 2):
        return _token_error(400, "invalid_grant", "grant request is invalid")  # replayed
    if request.POST.get("redirect_uri") != code["redirect_uri"]:
        return _token_error(400, "invalid_grant", "grant request is invalid")
    identity = BY_KEY[code["identity"]]
    now = int(time.time())
    id_claims = {
        "iss": issuer(request),
        "aud": client_id,
        "sub": identity.sub,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "nonce": code["nonce"],
        "acr": identity.acr,
        "auth_time": code["auth_time"],
        "sid": code["sid"],
    }
    if _asked_amr(code["claims"]):
        id_claims["amr"] = identity.amr
    access = signing.dumps(
        {"identity": identity.key, "scope": code["scope"], "aud": client_id}, salt=TOKEN_SALT
    )
    response = JsonResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "id_token": jws.sign(id_claims),
            "refresh_token": secrets.token_urlsafe(24),
            "scope": code["scope"],
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _identity_claims(identity: Identity, scopes: set[str]) -> dict[str, str]:
    offered = {
        "email": ("email", identity.email),
        "given_name": ("given_name", identity.given_name),
        "usual_name": ("usual_name", identity.usual_name),
        "siret": ("siret", identity.siret),
        "idp_id": ("idp_id", identity.idp_id),
        "organization_label": ("organization_label", identity.organization_label),
        "uid": ("uid", identity.key),
    }
    # Only the granted scopes; empty values left out, as ProConnect does.
    return {claim: value for scope, (claim, value) in offered.items() if scope in scopes and value}


@csrf_exempt
@login_not_required
@require_GET
def userinfo(request: HttpRequest) -> HttpResponse:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise signing.BadSignature("no bearer")
        access = signing.loads(value.strip(), salt=TOKEN_SALT, max_age=TOKEN_SECONDS)
    except signing.BadSignature:
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    identity = BY_KEY[access["identity"]]
    now = int(time.time())
    claims = {
        "iss": issuer(request),
        "aud": access["aud"],
        "sub": identity.sub,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        **_identity_claims(identity, set(access["scope"].split())),
    }
    return HttpResponse(jws.sign(claims), content_type="application/jwt")


# -- end-session -------------------------------------------------------------------------------


@login_not_required
@never_cache
@require_GET
def end_session(request: HttpRequest) -> HttpResponse:
    uri = request.GET.get("post_logout_redirect_uri", "")
    state = request.GET.get("state", "")
    if uri != _absolute(request, "proconnect-logged-out"):
        return _bad_request("Y030111 : post_logout_redirect_uri non enregistrée pour ce client.")
    if not state:
        return _bad_request("state est obligatoire.")
    hint = request.GET.get("id_token_hint", "")
    if hint:
        try:
            jws.verify(hint, settings.PROCONNECT_CLIENT_ID)
        except jwt.InvalidTokenError:
            return _bad_request("id_token_hint invalide.")
    elif request.GET.get("client_id") != settings.PROCONNECT_CLIENT_ID:
        return _bad_request("id_token_hint ou client_id est obligatoire.")
    response = _redirect(uri, state=state)
    response.status_code = 303
    response.delete_cookie(SESSION_COOKIE, path=settings.PROCONNECT_SANDBOX_PATH + "/")
    return response
