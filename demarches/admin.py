from django.contrib import admin, messages
from django.utils import timezone

from demarches.forms import DemarcheAdminForm
from demarches.hubee import check_connection
from demarches.models import Demarche, HubEEConnection, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "siret", "code_guichet"]
    search_fields = ["name", "siret", "code_guichet"]


@admin.register(HubEEConnection)
class HubEEConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "environment", "api_url", "batch_size", "http_retries"]
    list_filter = ["environment"]
    fieldsets = [
        (None, {"fields": ["name", "environment", "token_url", "api_url"]}),
        (
            "En-têtes d'identification",
            {"fields": ["editor_name", "application_name", "software_version"]},
        ),
        ("Synchronisation", {"fields": ["batch_size", "http_retries", "not_found_attempts"]}),
    ]


@admin.register(Demarche)
class DemarcheAdmin(admin.ModelAdmin):
    form = DemarcheAdminForm
    list_display = [
        "name",
        "process_code",
        "organisation",
        "connection",
        "enabled",
        "retention_months",
    ]
    list_filter = ["enabled", "process_code", "organisation", "connection"]
    search_fields = ["name", "process_code", "client_id"]
    list_select_related = ["organisation", "connection"]
    readonly_fields = ["created_at", "updated_at", "retention_summary"]
    actions = ["test_connection", "enable", "disable"]
    filter_horizontal = ["agents"]
    fieldsets = [
        (None, {"fields": ["name", "process_code", "organisation", "connection", "enabled"]}),
        ("Identifiants HubEE", {"fields": ["client_id", "client_secret"]}),
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
        ("Conservation des données (RGPD)", {"fields": ["retention_months", "retention_summary"]}),
        ("Habilitations", {"fields": ["agents"]}),
        ("Historique", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Prochaine purge")
    def retention_summary(self, obj: Demarche) -> str:
        from django_q.models import Schedule

        from dossiers import retention, tasks

        schedule = Schedule.objects.filter(name=tasks.PURGE_SCHEDULE_NAME).first()
        if schedule is None or schedule.next_run is None:
            when = "non planifiée (lancez « python manage.py hubee_purge »)"
        else:
            when = f"le {timezone.localtime(schedule.next_run):%d/%m/%Y à %H:%M}"
        text = (
            f"Conservation : {obj.retention_months} mois après un statut final (Traité, Refusé, "
            f"Clos). Prochaine purge {when}"
        )
        if obj.pk is None or schedule is None or schedule.next_run is None:
            return text + "."
        count = retention.expired(obj, schedule.next_run).count()
        return f"{text} : {count} dossier(s) à purger à cette date."

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
        count = queryset.update(enabled=True)
        self.message_user(request, f"{count} démarche(s) activée(s).", messages.SUCCESS)

    @admin.action(description="Désactiver les démarches sélectionnées", permissions=["change"])
    def disable(self, request, queryset):
        count = queryset.update(enabled=False)
        self.message_user(request, f"{count} démarche(s) désactivée(s).", messages.SUCCESS)
