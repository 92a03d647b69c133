"""The second factor's pages: verification (TOTP or recovery code), enrolment (QR code and
secret, then ten recovery codes shown once) and the recovery codes' page."""

from __future__ import annotations

import logging
import re
from base64 import b32encode

import segno
from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hubee_portal import second_factor

logger = logging.getLogger(__name__)

NEW_CODES = "hubee_new_recovery_codes"  # shown once on the codes page, then dropped


def _code_field(label: str, help_text: str, max_length: int, missing: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=max_length,
        error_messages={"required": missing},
    )


class TotpForm(forms.Form):
    code = _code_field(
        "Code à 6 chiffres",
        "Le code affiché par votre application d'authentification, par exemple 123456.",
        12,
        "Saisissez le code à 6 chiffres de votre application.",
    )

    def clean_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(
                "Le code fait 6 chiffres, par exemple 123456 : saisissez celui que votre "
                "application affiche."
            )
        return code


class RecoveryForm(forms.Form):
    recovery_code = _code_field(
        "Code de secours",
        "Un des dix codes de secours reçus à l'activation, par exemple abcd-2345.",
        20,
        "Saisissez un de vos codes de secours.",
    )

    def clean_recovery_code(self) -> str:
        return re.sub(r"[\s-]", "", self.cleaned_data["recovery_code"]).lower()


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("home")


def _with_next(name: str, next_url: str) -> str:
    return second_factor.with_next(reverse(name), next_url)


def _locked_until(devices) -> str | None:
    """When the throttled devices accept a try again (local time), or None if they do."""
    until = [
        data["locked_until"]
        for device in devices
        for allowed, data in [device.verify_is_allowed()]
        if not allowed and data and "locked_until" in data
    ]
    return f"{timezone.localtime(max(until)):%H:%M:%S}" if until else None


def _retry_message(wrong: bool, until: str) -> str:
    start = "Code incorrect. " if wrong else ""
    return (
        f"{start}Trop de codes erronés à la suite : par sécurité, le prochain essai n'est "
        f"possible qu'à partir de {until}."
    )


def _check(request: HttpRequest, form: forms.Form, field: str, devices: list) -> object | None:
    """The device that accepts the code (each throttled by django-otp), or None with the
    error on the form. A lock on one device holds for all: guessing cannot switch."""
    everything = [
        *TOTPDevice.objects.filter(user=request.user, confirmed=True),
        *StaticDevice.objects.filter(user=request.user),
    ]
    until = _locked_until(everything)
    if until:
        form.add_error(field, _retry_message(False, until))
        return None
    code = form.cleaned_data[field]
    for device in devices:
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    until = _locked_until(type(d).objects.get(pk=d.pk) for d in devices)
    if until:
        form.add_error(field, _retry_message(True, until))
    else:
        form.add_error(field, "Code incorrect : vérifiez-le et saisissez-le de nouveau.")
    logger.info("second factor refused for user %s", request.user.pk)
    return None


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    next_url = _next(request)
    if second_factor.is_satisfied(request):
        return HttpResponseRedirect(next_url)
    if not second_factor.has_totp(request.user):
        return HttpResponseRedirect(_with_next("second-factor-setup", next_url))
    totp_form, recovery_form = TotpForm(), RecoveryForm()
    status = 200
    if request.method == "POST":
        if "recovery_code" in request.POST:
            recovery_form = RecoveryForm(request.POST)
            form, field, model = recovery_form, "recovery_code", StaticDevice
        else:
            totp_form = TotpForm(request.POST)
            form, field, model = totp_form, "code", TOTPDevice
        if form.is_valid():
            devices = list(model.objects.filter(user=request.user, confirmed=True))
            device = _check(request, form, field, devices)
            if device is not None:
                second_factor.verified(request, device)
                if model is StaticDevice:
                    left = device.token_set.count()
                    request.session["hubee_recovery_left"] = left
                    return HttpResponseRedirect(_with_next("second-factor-codes", next_url))
                return HttpResponseRedirect(next_url)
        status = 400
    context = {"totp_form": totp_form, "recovery_form": recovery_form, "next": next_url}
    return render(request, "registration/second_factor_verify.html", context, status=status)


def _qr_svg(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", svgclass="qr-code", title="QR code de configuration"
    )
    # An image with the title as its name; no style attribute (CSP style-src 'self').
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _grouped_secret(device: TOTPDevice) -> list[str]:
    secret = b32encode(device.bin_key).decode()
    return [secret[i : i + 4] for i in range(0, len(secret), 4)]


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    next_url = _next(request)
    # Enrolling again would replace the device: only after a reset by a superuser.
    if second_factor.has_totp(request.user):
        return HttpResponseRedirect(second_factor.second_factor_url(next_url))
    device = second_factor.pending_device(request.user)
    form = TotpForm()
    status = 200
    if request.method == "POST":
        form = TotpForm(request.POST)
        if form.is_valid() and _check(request, form, "code", [device]) is not None:
            device.refresh_from_db()
            request.session[NEW_CODES] = second_factor.confirm(request, device)
            return HttpResponseRedirect(_with_next("second-factor-codes", next_url))
        status = 400
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": _qr_svg(device),
        "secret_groups": _grouped_secret(device),
    }
    return render(request, "registration/second_factor_setup.html", context, status=status)


def _show(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@require_http_methods(["GET", "POST"])
def codes(request: HttpRequest) -> HttpResponse:
    next_url = _next(request)
    if request.session.get(second_factor.MFA) != second_factor.TOTP or not (
        second_factor.is_satisfied(request)
    ):
        return HttpResponseRedirect(second_factor.second_factor_url(request.get_full_path()))
    if request.method == "POST":
        request.session[NEW_CODES] = second_factor.new_recovery_codes(request.user)
        logger.info("recovery codes renewed by user %s", request.user.pk)
        return HttpResponseRedirect(_with_next("second-factor-codes", next_url))
    fresh = request.session.pop(NEW_CODES, None)
    device = StaticDevice.objects.filter(user=request.user).first()
    context = {
        "fresh": [_show(code) for code in fresh or []],
        "left": device.token_set.count() if device else 0,
        "used_one": request.session.pop("hubee_recovery_left", None) is not None,
        "next": next_url,
    }
    return render(request, "registration/second_factor_codes.html", context)
