"""ProConnect's pages: the login request, its callback, the step-up, the refusal page, and the
password login page that offers ProConnect."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.utils.decorators import method_decorator
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    get_next_url,
)

from demarches.proconnect import config, refusals
from demarches.proconnect.logout import REFUSED

logger = logging.getLogger("demarches.proconnect")

# The state of the pending step-up authorization, to tell its callback from a login's.
STEP_UP_STATE = "proconnect_step_up_state"
AGENTS_USE_PROCONNECT = (
    "Les agents se connectent avec ProConnect : utilisez le bouton « S'identifier avec "
    "ProConnect ». La connexion par mot de passe est réservée aux administrateurs du portail."
)


def _require_enabled() -> None:
    if not config.enabled():
        raise Http404("ProConnect n'est pas configuré sur ce portail.")


@method_decorator(login_not_required, name="dispatch")
class LoginView(OIDCAuthenticationRequestView):
    """« S'identifier avec ProConnect »: to ProConnect's authorize endpoint."""

    def get(self, request):
        _require_enabled()
        return super().get(request)

    def get_extra_params(self, request):
        return config.login_params()


class StepUpView(LoginView):
    """A second factor asked of ProConnect, once per session: MFA levels as essential. Without
    a ProConnect session, or after one try, the portal's own second factor."""

    def get(self, request):
        _require_enabled()
        session = request.session
        next_url = get_next_url(request, "next") or resolve_url(settings.LOGIN_REDIRECT_URL)
        if session.get(config.MFA) == config.PROCONNECT:
            return redirect(next_url)
        if session.get(config.LOGIN_METHOD) != config.PROCONNECT or session.get(
            config.STEP_UP_TRIED
        ):
            return redirect(config.second_factor_url(next_url))
        session[config.STEP_UP_TRIED] = True
        response = super().get(request)
        session[STEP_UP_STATE] = parse_qs(urlsplit(response.url).query)["state"][0]
        return response

    def get_extra_params(self, request):
        return config.step_up_params()


@method_decorator(login_not_required, name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    """ProConnect's answer. Refusals go to a page that says why (`refused`); a step-up's
    failure to the portal's second factor, the agent staying logged in."""

    step_up = False

    def get(self, request):
        _require_enabled()
        state = request.GET.get("state", "")
        self.step_up = bool(state) and state == request.session.pop(STEP_UP_STATE, None)
        error = request.GET.get("error")
        if error:
            logger.warning(
                "ProConnect répond par une erreur : %s (%s)",
                error[:100],
                request.GET.get("error_description", "")[:300],
            )
            if self.step_up:
                request.session.get("oidc_states", {}).pop(state, None)
                request.session.modified = True
                return self.login_failure()
            request.proconnect_refusal = (
                refusals.CANCELLED if error == "access_denied" else refusals.PROVIDER
            )
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this session never sent
            logger.warning("Retour de ProConnect refusé : %s", exc)
            request.proconnect_refusal = refusals.EXPIRED
            return self.login_failure()

    def _next(self) -> str:
        return self.request.session.get("oidc_login_next") or resolve_url(
            settings.LOGIN_REDIRECT_URL
        )

    def login_failure(self):
        if self.step_up:
            logger.warning("Renforcement ProConnect en échec : second facteur du portail")
            return redirect(config.second_factor_url(self._next()))
        reason = getattr(self.request, "proconnect_refusal", refusals.EXPIRED)
        self.request.session[REFUSED] = True
        return redirect("proconnect-refused", reason.slug)

    def login_success(self):
        claims = getattr(self.request, "proconnect_id_claims", {})
        session = self.request.session
        if self.step_up:
            if self.user != self.request.user:
                logger.warning("Renforcement ProConnect fait par un autre compte : refusé")
                return redirect(config.second_factor_url(self._next()))
            if not config.has_mfa(claims):
                logger.warning("Renforcement ProConnect sans MFA (acr %s)", claims.get("acr"))
                return redirect(config.second_factor_url(self._next()))
            session[config.MFA] = config.PROCONNECT
            return redirect(self._next())
        response = super().login_success()
        session = self.request.session  # the same object, its key cycled by login()
        session.pop(REFUSED, None)
        session[config.LOGIN_METHOD] = config.PROCONNECT
        if config.has_mfa(claims):
            session[config.MFA] = config.PROCONNECT
        return response


@login_not_required
def refused(request, reason: str):
    found = refusals.REASONS.get(reason)
    if found is None:
        raise Http404("Motif inconnu.")
    context = {
        "reason": found,
        "contact": settings.PROCONNECT_SUPPORT_CONTACT,
        "passwords": not settings.PROCONNECT_ONLY_AGENTS,
        "ends_provider_session": found.provider_session and bool(request.session.get(REFUSED)),
    }
    return render(request, "registration/proconnect_refused.html", context)


class PasswordLoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if config.enabled() and settings.PROCONNECT_ONLY_AGENTS and not user.is_staff:
            raise forms.ValidationError(AGENTS_USE_PROCONNECT, code="proconnect_only")


class PasswordLoginView(auth_views.LoginView):
    """The login page: ProConnect's button when it is configured, and the password form."""

    form_class = PasswordLoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["proconnect"] = config.enabled()
        context["agents_use_proconnect"] = config.enabled() and settings.PROCONNECT_ONLY_AGENTS
        return context
