import json

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import models

from demarches import (
    admin_accounts,  # noqa: F401  (replaces the User and Group pages)
    admin_pages,  # noqa: F401  (the organisation's identity and the published pages)
    services,
)
from demarches.admin_templates import ReplyTemplateInline
from demarches.admin_wording import FrenchWording
from demarches.forms import DemarcheAdminForm
from demarches.hubee import check_connection
from demarches.models import AttachmentTypeLabel, Demarche, HubEEConnection, Organisation

# Fields that decide where the démarches' client secrets are sent: a superuser's alone.
CONNECTION_DESTINATION_FIELDS = ["environment", *HubEEConnection.DESTINATION_FIELDS]


def _who(request) -> str:
    return f"{request.user.get_username()} (id {request.user.pk})"


def _with_destination(message: list, form) -> str | list:
    """Django's change message, then the destination change (old → new URLs) if any."""
    change = getattr(form, "destination_change", None)
    if change is None:
        return message
    standard = LogEntry(change_message=json.dumps(message)).get_change_message()
    return f"{standard} {change.history}"


def _tell_disabled(modeladmin, request, change, why: str) -> None:
    if change is None or not change.disabled:
        return
    names = ", ".join(f"« {d} »" for d in change.disabled)
    modeladmin.message_user(
        request,
        f"{why} Le secret client de ces démarches a été effacé et elles sont désactivées : "
        f"{names}. {services.HOW_TO_REENABLE}",
        messages.WARNING,
    )


@admin.register(HubEEConnection)
class HubEEConnectionAdmin(FrenchWording, admin.ModelAdmin):
    list_display = ["name", "environment", "api_url", "batch_size", "http_retries"]
    list_filter = ["environment"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "environment", "token_url", "api_url"]}),
        (
            "En-têtes d'identification",
            {"fields": ["editor_name", "application_name", "software_version"]},
        ),
        ("Synchronisation", {"fields": ["batch_size", "http_retries", "not_found_attempts"]}),
    ]

    # Only a superuser may say where secrets go: other staff see these fields read-only, a
    # posted value is ignored (not in the form), and save_model refuses a change anyway.
    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += CONNECTION_DESTINATION_FIELDS
        return readonly

    def save_model(self, request, obj: HubEEConnection, form, change: bool) -> None:
        old = HubEEConnection.objects.get(pk=obj.pk).destination if change else None
        if obj.destination != old and not request.user.is_superuser:
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        form.destination_change = services.connection_destination_changed(
            obj, old, by=_who(request)
        )
        _tell_disabled(
            self,
            request,
            form.destination_change,
            "Les URL de la connexion ont changé : les secrets clients partiraient maintenant "
            "vers une autre adresse.",
        )

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        return _with_destination(message, form)


# dossiers.admin adds the retention summary (demarches never imports dossiers).
RETENTION_FIELDSET = ("Conservation des données (RGPD)", {"fields": ["retention_months"]})


class OrganisationFilter(admin.RelatedFieldListFilter):
    """An operator's 625 organisations: their names and SIRET only, never their logos (Django's
    filter loads every column of every organisation)."""

    def field_choices(self, field, request, model_admin):
        rows = Organisation.objects.only("pk", "name", "siret").order_by("name", "pk")
        return [(organisation.pk, str(organisation)) for organisation in rows]


@admin.register(Demarche)
class DemarcheAdmin(FrenchWording, admin.ModelAdmin):
    form = DemarcheAdminForm
    list_display = [
        "name",
        "process_code",
        "organisation",
        "connection",
        "enabled",
        "secret",
        "retention_months",
    ]
    list_filter = ["enabled", "process_code", ("organisation", OrganisationFilter), "connection"]
    # An operator has thousands: 50 rows draw in about 40 ms at 2,500 démarches, 100 in 70.
    list_per_page = 50
    # An operator finds a collectivité's démarches by its name or SIRET.
    search_fields = [
        "name",
        "process_code",
        "client_id",
        "organisation__name",
        "organisation__siret",
    ]
    list_select_related = ["organisation", "connection"]
    readonly_fields = ["secret", "created_at", "updated_at"]
    actions = ["test_connection", "enable", "disable"]
    filter_horizontal = ["agents"]
    inlines = [ReplyTemplateInline]
    fieldsets = [
        (None, {"fields": ["name", "process_code", "organisation", "connection", "enabled"]}),
        ("Identifiants HubEE", {"fields": ["client_id", "client_secret", "secret"]}),
        ("Fichiers", {"fields": ["download_folder"]}),
        (
            "Statuts",
            {
                "fields": [
                    "automatic_status",
                    "allow_done",
                    "allow_refused",
                    "automatic_final_status",
                ]
            },
        ),
        (
            "Échanges avec l'usager",
            {"fields": ["allows_add_awaiting", "allows_messages", "allows_document_return"]},
        ),
        RETENTION_FIELDSET,
        ("Habilitations", {"fields": ["agents", "take_assigns", "sensitive"]}),
        ("Historique", {"fields": ["created_at", "updated_at"]}),
    ]

    # Whether a secret is stored and since when: never the secret itself.
    @admin.display(description="état du secret", ordering="secret_set_at")
    def secret(self, obj: Demarche) -> str:
        return obj.secret_state

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Checked by the form: staff never add themselves to the habilitations.
        form.editor = request.user
        return form

    # Moving a démarche to another connection sends its secret elsewhere: a superuser's
    # decision. Other staff may still create a démarche on an existing connection: they type
    # its secret themselves, to a destination a superuser has approved.
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            readonly.append("connection")
        return readonly

    def save_model(self, request, obj: Demarche, form, change: bool) -> None:
        before = Demarche.objects.select_related("connection").get(pk=obj.pk) if change else None
        moved = before is not None and before.connection_id != obj.connection_id
        if moved and not request.user.is_superuser:
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        if not moved:
            return
        form.destination_change = services.demarche_moved(
            obj,
            before.connection,
            secret_replaced=bool(form.cleaned_data.get("client_secret")),
            by=_who(request),
        )
        _tell_disabled(
            self,
            request,
            form.destination_change,
            "La démarche a changé de connexion HubEE sans que son secret soit saisi à nouveau.",
        )

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        return _with_destination(message, form)

    @admin.action(
        description="Tester la connexion (et activer si elle réussit)", permissions=["change"]
    )
    def test_connection(self, request, queryset):
        for demarche in queryset.select_related("connection"):
            ok, message = check_connection(demarche)
            if ok and not demarche.enabled:
                Demarche.objects.filter(pk=demarche.pk).update(enabled=True)
                message += " La démarche est maintenant active."
            level = messages.SUCCESS if ok else messages.ERROR
            self.message_user(request, f"{demarche} : {message}", level)

    @admin.action(description="Activer les démarches sélectionnées", permissions=["change"])
    def enable(self, request, queryset):
        # Without its secret a démarche would only fail every minute (after a destination
        # change, say): it waits for the secret to be entered again.
        without_secret = list(queryset.filter(client_secret_encrypted=""))
        count = queryset.exclude(client_secret_encrypted="").update(enabled=True)
        self.message_user(request, f"{count} démarche(s) activée(s).", messages.SUCCESS)
        if without_secret:
            names = ", ".join(f"« {d} »" for d in without_secret)
            self.message_user(
                request,
                f"Non activée(s), faute de secret client : {names}. Saisissez le secret dans la "
                "fiche de la démarche, puis lancez « Tester la connexion (et activer si elle "
                "réussit) ».",
                messages.WARNING,
            )

    @admin.action(description="Désactiver les démarches sélectionnées", permissions=["change"])
    def disable(self, request, queryset):
        count = queryset.update(enabled=False)
        self.message_user(request, f"{count} démarche(s) désactivée(s).", messages.SUCCESS)


@admin.register(AttachmentTypeLabel)
class AttachmentTypeLabelAdmin(FrenchWording, admin.ModelAdmin):
    list_display = ["code", "label", "assumed_text", "updated_at"]
    list_display_links = ["code", "label"]
    list_filter = ["assumed"]
    search_fields = ["code", "label"]
    fields = ["code", "label", "assumed", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    # In words: Django's boolean icon says « True » to a screen reader.
    @admin.display(description="libellé supposé", ordering="assumed")
    def assumed_text(self, obj: AttachmentTypeLabel) -> str:
        return "Oui" if obj.assumed else "Non"
