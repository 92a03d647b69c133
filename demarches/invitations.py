"""Inviting an agent: the account is created without a password and the agent receives an
e-mail with a link to choose one (Django's password-reset token and views, French templates in
templates/registration/). Nobody ever sees or types a password for someone else.

The sign-in method has one switch point, `sign_in_method`: an agent kept from passwords
(ProConnect on, PROCONNECT_ONLY_AGENTS) is sent the login page instead of the link to choose a
password, and the e-mail (templates/emails/invitation.txt, given `sign_in`) says « connectez-vous
avec ProConnect » rather than « choisissez votre mot de passe ».
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from demarches import installation
from demarches.proconnect import config as proconnect
from hubee_portal import environment


def valid_until(now: datetime | None = None) -> datetime:
    """Until when a link made now works (settings.PASSWORD_RESET_TIMEOUT, in seconds)."""
    return (now or timezone.now()) + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def _absolute(path: str, request=None) -> str:
    # The address the administrator is using, else the configured one (a command, a task).
    return (
        request.build_absolute_uri(path) if request is not None else settings.PORTAL_BASE_URL + path
    )


def password_link(user, request=None) -> str:
    """The link to choose a password: valid once, until `valid_until()`."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return _absolute(path, request)


def sign_in_method(user) -> str:
    """The switch point (see the module's docstring): "password" or "proconnect"."""
    if proconnect.enabled() and settings.PROCONNECT_ONLY_AGENTS and not user.is_staff:
        return "proconnect"
    return "password"


def sign_in_link(user, request=None) -> str:
    """Where the invited agent goes first."""
    if sign_in_method(user) == "proconnect":
        return _absolute(reverse("login"), request)
    return password_link(user, request)


def invite(user, request=None, *, inviter=None) -> None:
    """Send `user` the invitation (French, from DEFAULT_FROM_EMAIL). Raises what the mail
    backend raises: the caller tells the administrator."""
    context = {
        "user": user,
        "name": user.get_full_name() or user.get_username(),
        "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
        "demarches": [d.name for d in user.demarches.order_by("name")],
        "sign_in": sign_in_method(user),
        "link": sign_in_link(user, request),
        "valid_until": valid_until(),
        "login_url": _absolute(reverse("login"), request),
        "portal": installation.current().full_name,
    }
    body = render_to_string("emails/invitation.txt", context)
    action = (
        "connectez-vous avec ProConnect"
        if context["sign_in"] == "proconnect"
        else "choisissez votre mot de passe"
    )
    subject = environment.subject(f"Votre compte sur {context['portal']} : {action}")
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


class LinkedErrors:
    """Each field's error is read with it (RGAA 11.10): the field points to its message, which
    the templates render with the id `<field id>_error`."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                described = [f"{self[name].auto_id}_error"]
                if field.help_text:
                    described.append(f"{self[name].auto_id}_helptext")
                field.widget.attrs["aria-describedby"] = " ".join(described)
                field.widget.attrs["aria-invalid"] = "true"


MISMATCH = "Les deux mots de passe ne sont pas identiques : saisissez-les à nouveau."  # noqa: S105


class ForgottenPasswordForm(LinkedErrors, PasswordResetForm):
    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Indiquez l'adresse électronique de votre compte.",
            "invalid": "Indiquez une adresse électronique valide, par exemple nom@mairie.fr.",
        },
    )

    def get_users(self, email):
        # Django leaves out accounts without a usable password; here an invited agent whose
        # link expired gets a new one the same way (inactive accounts never do).
        field = get_user_model().get_email_field_name()
        users = get_user_model()._default_manager.filter(
            **{f"{field}__iexact": email, "is_active": True}
        )
        return (u for u in users if getattr(u, field).casefold() == email.casefold())


class ChoosePasswordForm(LinkedErrors, SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password2"].label = "Confirmation du mot de passe"
        self.fields["new_password2"].help_text = "Saisissez le même mot de passe."
        for name in ("new_password1", "new_password2"):
            self.fields[name].error_messages["required"] = "Saisissez le mot de passe."
        # A copy: the class's dict is shared by every form.
        self.error_messages = {**self.error_messages, "password_mismatch": MISMATCH}


class ForgottenPasswordView(auth_views.PasswordResetView):
    form_class = ForgottenPasswordForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {
            "valid_until": valid_until(),
            "portal": installation.current().full_name,
            "subject_prefix": environment.subject_prefix(),
        }
        return super().form_valid(form)


class ChoosePasswordView(auth_views.PasswordResetConfirmView):
    form_class = ChoosePasswordForm
