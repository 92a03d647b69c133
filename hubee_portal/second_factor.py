"""The portal's second factor (issue 20): who needs it, whether this session has it, and the
middleware that sends a user to it.

Staff and superusers need it on every page; an agent needs it before opening a dossier of a
démarche marked sensitive. It is satisfied by a TOTP or recovery code verified here (session
`hubee_mfa="totp"`, django-otp's device in the session) or by ProConnect's own MFA
(`hubee_mfa="proconnect"`, set by the ProConnect login). A ProConnect session without MFA is
first sent to the provider once (step-up), then to the portal's TOTP.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Exists, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from demarches.models import Demarche

logger = logging.getLogger(__name__)

# Session keys shared with the ProConnect login (contract of issue 20).
MFA = "hubee_mfa"
LOGIN_METHOD = "hubee_login_method"
STEP_UP_TRIED = "hubee_step_up_tried"
TOTP = "totp"
PROCONNECT = "proconnect"

VERIFY_PATH = "/connexion/second-facteur/"
STEP_UP_PATH = "/connexion/proconnect/renforcer/"
RECOVERY_CODES = 10
DEVICE_NAME = "Application d'authentification"

# Reached without a second factor: signing in and out, the second factor itself, ProConnect,
# files, supervision, the sandbox (its API has no session) and the password links.
EXEMPT_PREFIXES = (
    "/connexion/",
    "/deconnexion/",
    "/oidc/",
    "/healthz",
    "/favicon.ico",
    "/sandbox/",
    "/mot-de-passe",
)
# Agent pages that open one dossier (its page, files, previews, ZIP, live parts, actions).
STATISTICS = ("statistics-demarche", "statistics-csv")


def required(user: AbstractBaseUser) -> bool:
    """Staff and superusers need the second factor on every page."""
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def is_satisfied(request: HttpRequest) -> bool:
    how = request.session.get(MFA)
    if how == TOTP:
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified and is_verified())
    return how == PROCONNECT


def with_next(path: str, next_url: str) -> str:
    return f"{path}?{urlencode({'next': next_url})}" if next_url else path


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # the other half of issue 20 not merged yet
        return fallback


def second_factor_url(next_url: str = "") -> str:
    """The portal's TOTP page (the step-up's fallback)."""
    return with_next(_url("second-factor-verify", VERIFY_PATH), next_url)


def has_totp(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def redirect_to_second_factor(request: HttpRequest, next_url: str) -> HttpResponseRedirect:
    """ProConnect's step-up first (once), else the portal's TOTP (its enrolment if none)."""
    if request.session.get(LOGIN_METHOD) == PROCONNECT and not request.session.get(STEP_UP_TRIED):
        return HttpResponseRedirect(with_next(_url("proconnect-step-up", STEP_UP_PATH), next_url))
    if has_totp(request.user):
        return HttpResponseRedirect(second_factor_url(next_url))
    return HttpResponseRedirect(with_next(reverse("second-factor-setup"), next_url))


# Pages that read or act on many dossiers at once: the CSV export and the bulk actions.
MANY_DOSSIERS = {"export", "bulk", "bulk-result"}


def opens_sensitive_dossier(request: HttpRequest, view_kwargs: dict) -> bool:
    """A dossier of a sensitive démarche, or the export and bulk pages of an agent who sees
    one (they carry those dossiers' personal data, or decide them, without opening them)."""
    match = request.resolver_match
    if match is None or match.namespace != "dossiers" or match.url_name in STATISTICS:
        return False
    pk = view_kwargs.get("pk")
    if pk is None and match.url_name not in MANY_DOSSIERS:
        return False
    user = request.user
    # Only where the user may read the dossier (habilitation, or « Voir tous les dossiers »):
    # others get the page's 404, not a hint. One query.
    view_all = Permission.objects.filter(
        codename="view_all_dossiers", content_type__app_label="dossiers"
    ).filter(Q(user=user) | Q(group__user=user))
    sensitive = Demarche.objects.filter(sensitive=True)
    if pk is not None:
        sensitive = sensitive.filter(dossiers__pk=pk)
    return sensitive.filter(Q(agents=user) | Exists(view_all)).exists()


class SecondFactorMiddleware:
    """After LoginRequiredMiddleware: sends staff (every page) and agents opening a sensitive
    dossier to the second factor when the session has none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or is_satisfied(request):
            return None
        if request.path.startswith((settings.STATIC_URL, *EXEMPT_PREFIXES)):
            return None
        if not (required(user) or opens_sensitive_dossier(request, view_kwargs)):
            return None
        next_url = request.get_full_path() if request.method == "GET" else reverse("home")
        return redirect_to_second_factor(request, next_url)


# -- devices ----------------------------------------------------------------------------------


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (its secret is shown until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Ten fresh single-use codes; the former ones stop working."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "Codes de secours"}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        device.token_set.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def confirm(request: HttpRequest, device: TOTPDevice) -> list[str]:
    """The enrolment's code was right: the device replaces any other, the session is verified,
    and new recovery codes are returned (shown once)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    verified(request, device)
    logger.info("second factor enrolled by user %s", device.user_id)
    return codes


def verified(request: HttpRequest, device) -> None:
    # A new session key: one seen before the second factor is no use after it.
    request.session.cycle_key()
    otp_login(request, device)
    request.session[MFA] = TOTP


def reset(user: AbstractBaseUser) -> int:
    """A superuser's reset (lost phone): every device goes; the user enrols again at the next
    login. Returns how many devices were removed."""
    devices = [TOTPDevice.objects.filter(user=user), StaticDevice.objects.filter(user=user)]
    with transaction.atomic():
        removed = sum(each.count() for each in devices)
        for each in devices:
            each.delete()
    return removed
