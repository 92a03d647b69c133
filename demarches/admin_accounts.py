"""Accounts in the admin: who grants rights. Django lets any holder of change_user or
change_group give themselves every permission (even superuser status); here, only a superuser
grants permissions, groups or superuser status, and touches a superuser's account. Other
administrateurs techniques create agents and edit their names, e-mails, passwords and status.

An agent is created on one page with their démarches (the habilitations, Demarche.agents seen
from the user's side) and no password: the account receives an invitation (demarches.invitations).
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from demarches import invitations
from demarches.admin_wording import FrenchWording
from demarches.forms import SELF_HABILITATION
from demarches.identities import ProConnectIdentity
from demarches.models import Demarche

User = get_user_model()
logger = logging.getLogger(__name__)

GRANTS = ["is_superuser", "groups", "user_permissions"]
HABILITATIONS = "habilitations"


class DemarcheChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Demarche) -> str:
        return obj.name if obj.enabled else f"{obj.name} (désactivée)"


def habilitations_field() -> DemarcheChoice:
    return DemarcheChoice(
        queryset=Demarche.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Démarches (habilitations)",
        help_text="L'agent voit et traite les dossiers des démarches cochées.",
    )


class HabilitationsForm(forms.ModelForm):
    """The user's démarches, saved through the user's side of Demarche.agents: set() sends the
    m2m signals, so a démarche taken away releases the agent's dossiers there."""

    editor = None  # the user saving the form, set by the admin

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if HABILITATIONS in self.fields and self.instance.pk:
            self.fields[HABILITATIONS].initial = list(
                self.instance.demarches.values_list("pk", flat=True)
            )

    def clean_habilitations(self):
        chosen = self.cleaned_data[HABILITATIONS]
        editor = self.editor
        if editor is None or editor.is_superuser or self.instance.pk != editor.pk:
            return chosen
        # The démarche page's rule: an administrateur technique keeps, never adds, their own.
        held = set(editor.demarches.values_list("pk", flat=True))
        if {d.pk for d in chosen} - held:
            raise forms.ValidationError(SELF_HABILITATION, code="self_habilitation")
        return chosen

    def _save_m2m(self):
        super()._save_m2m()
        if HABILITATIONS in self.fields:
            self.instance.demarches.set(self.cleaned_data[HABILITATIONS])


class AgentChangeForm(HabilitationsForm, UserChangeForm):
    habilitations = habilitations_field()


class AgentCreationForm(HabilitationsForm):
    """No password: the account gets an unusable one and an invitation to choose it."""

    habilitations = habilitations_field()

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "L'invitation à choisir un mot de passe y est envoyée."
        self.fields["email"].error_messages["required"] = (
            "Indiquez l'adresse électronique de l'agent : l'invitation y est envoyée."
        )

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
            self._save_m2m()
        return user


class AccountAdmin(FrenchWording, UserAdmin):
    form = AgentChangeForm
    add_form = AgentCreationForm
    add_form_template = None  # Django's asks for a password first
    add_fieldsets = [
        (
            None,
            {
                "fields": ["username", "first_name", "last_name", "email"],
                "description": (
                    "Aucun mot de passe à saisir : l'agent reçoit par courriel un lien pour "
                    "choisir le sien."
                ),
            },
        ),
        ("Démarches", {"fields": [HABILITATIONS]}),
    ]
    actions = ["send_invitation"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # The démarches next to the identity, before the rights only a superuser grants.
        return [
            fieldsets[0],
            fieldsets[1],
            ("Démarches", {"fields": [HABILITATIONS]}),
            *fieldsets[2:],
        ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.editor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += GRANTS
        # Habilitating is changing a démarche: the démarche page's permission, here too.
        if not request.user.has_perm("demarches.change_demarche"):
            readonly.append(HABILITATIONS)
        return readonly

    # Shown where the field is read-only (a form field, not the model's).
    @admin.display(description="Démarches (habilitations)")
    def habilitations(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "Aucune"
        names = list(obj.demarches.order_by("name").values_list("name", flat=True))
        return ", ".join(names) or "Aucune"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            user = form.instance
            # After the commit: no invitation for an account the transaction did not keep.
            transaction.on_commit(lambda: self._invite(request, user))

    def _invite(self, request, user) -> bool:
        try:
            invitations.invite(user, request, inviter=request.user)
        except Exception:  # the mail server's error, whatever its library
            logger.exception("invitation not sent to user %s", user.pk)
            self.message_user(
                request,
                f"L'invitation n'a pas pu être envoyée à {user.email} (serveur de courriel "
                "injoignable ?). Vérifiez EMAIL_URL, puis sélectionnez l'agent dans la liste des "
                "utilisateurs et lancez « Renvoyer l'invitation ».",
                messages.ERROR,
            )
            return False
        until = timezone.localtime(invitations.valid_until())
        self.message_user(
            request,
            f"Invitation envoyée à {user.email} : le lien pour choisir un mot de passe est "
            f"valable jusqu'au {until:%d/%m/%Y à %H:%M}.",
            messages.SUCCESS,
        )
        return True

    @admin.action(description="Renvoyer l'invitation", permissions=["change"])
    def send_invitation(self, request, queryset):
        chosen = queryset.filter(is_active=True).exclude(email="")
        if not request.user.is_superuser:  # a superuser's account is not another's to touch
            chosen = chosen.exclude(is_superuser=True)
        skipped = queryset.count() - chosen.count()
        for user in chosen:
            self._invite(request, user)
        if skipped:
            self.message_user(
                request,
                f"{skipped} compte(s) sans invitation : inactif, sans adresse électronique, "
                "ou superutilisateur.",
                messages.WARNING,
            )

    def _touches_superuser(self, request, obj) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        # Also guards the password form: a superuser's password is not another's to set.
        if self._touches_superuser(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if self._touches_superuser(request, obj):
            return False
        return super().has_delete_permission(request, obj)


class SuperuserWrites:
    """Add, change and delete for superusers only (on top of the model permissions): for pages
    where writing is granting rights, or making the worker run code."""

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class RightsGroupAdmin(FrenchWording, SuperuserWrites, GroupAdmin):
    """A group is a bundle of permissions: writing one is granting them."""


@admin.register(ProConnectIdentity)
class ProConnectIdentityAdmin(FrenchWording, admin.ModelAdmin):
    """Read-only: ProConnect links them at the first login. Deleting one lets the agent link
    another identity (another identity provider, another `sub`) at their next login."""

    list_display = ["user", "idp_id", "created_at", "last_login_at"]
    search_fields = ["user__username", "user__email", "user__last_name"]
    readonly_fields = ["user", "sub", "idp_id", "created_at", "last_login_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


for model, model_admin in ((User, AccountAdmin), (Group, RightsGroupAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
