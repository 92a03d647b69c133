from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from demarches.admin import RETENTION_FIELDSET, DemarcheAdmin
from demarches.admin_wording import FrenchWording
from demarches.models import Demarche

# The libraries' admin pages, replaced by ours on import.
from dossiers import admin_libraries  # noqa: F401
from dossiers.admin_audit import AuditedReads
from dossiers.admin_names import VisibleFileNames
from dossiers.enums import AttachmentState, ScanState
from dossiers.models import (
    AgentPreference,
    AuditEntry,
    Dossier,
    Evenement,
    Incident,
    IntegrityCheck,
    NotificationFailure,
    OutgoingEvent,
    PieceJointe,
    PurgeRun,
    SyncRun,
)
from dossiers.operations import retention
from dossiers.operations.schedules import PURGE_SCHEDULE_NAME
from dossiers.records import antivirus
from dossiers.records.access import demarches_for, in_demarches_of, sees_all_dossiers


class ReadOnlyAdmin(FrenchWording, admin.ModelAdmin):
    """Received data and journals are written by the sync only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PieceJointeInline(VisibleFileNames, admin.TabularInline):
    model = PieceJointe
    extra = 0
    fields = [
        "file_name",
        "attachment_type",
        "size",
        "state",
        "stored_path",
        "downloaded_at",
        "scan",
        "scan_signature",
        "scanned_at",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class EvenementInline(admin.TabularInline):
    model = Evenement
    extra = 0
    fields = ["hubee_created_at", "direction", "action_type", "case_new_status", "author"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def unacknowledged_failed_pieces(dossiers):
    return PieceJointe.objects.filter(
        dossier__in=dossiers, state=AttachmentState.FAILED, failure_acknowledged_at__isnull=True
    )


class FailedDownloadsFilter(admin.SimpleListFilter):
    """The dossiers behind the « fichiers HubEE non téléchargés » incident (État du portail)."""

    title = "fichiers abandonnés"
    parameter_name = "abandon"

    def lookups(self, request, model_admin):
        return [("a-acquitter", "À réessayer ou acquitter")]

    def queryset(self, request, queryset):
        if self.value() != "a-acquitter":
            return queryset
        return queryset.filter(pk__in=unacknowledged_failed_pieces(queryset).values("dossier"))


@admin.register(Dossier)
class DossierAdmin(AuditedReads, ReadOnlyAdmin):
    list_display = ["external_id", "demarche", "status", "received_at"]
    list_filter = ["demarche", "status", FailedDownloadsFilter]
    search_fields = ["external_id", "hubee_case_id"]
    list_select_related = ["demarche"]
    date_hierarchy = "received_at"
    inlines = [PieceJointeInline, EvenementInline]
    exclude = ["raw"]
    actions = ["release_unscannable", "acknowledge_failed_downloads"]

    @admin.action(
        description="Libérer les pièces non analysables (après une nouvelle analyse antivirus)",
        permissions=["release"],
    )
    def release_unscannable(self, request, queryset):
        pieces = PieceJointe.objects.filter(
            dossier__in=queryset, scan=ScanState.UNSCANNABLE
        ).select_related("dossier__demarche")
        try:
            released, judged = antivirus.release(request.user, pieces)
        except antivirus.ScannerUnavailable:
            self.message_user(
                request,
                "L'antivirus ne répond pas : rien n'a été libéré. Vérifiez clamav-daemon.",
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            f"{released} pièce(s) libérée(s) sans analyse complète (inscrit au journal "
            f"d'audit) ; {judged} jugée(s) par la nouvelle analyse.",
            messages.SUCCESS,
        )

    def has_release_permission(self, request):
        return request.user.is_superuser

    @admin.action(
        description="Acquitter les fichiers abandonnés (un administrateur a pris connaissance)",
        permissions=["acknowledge_failed"],
    )
    def acknowledge_failed_downloads(self, request, queryset):
        count = unacknowledged_failed_pieces(queryset).update(
            failure_acknowledged_at=timezone.now()
        )
        self.message_user(
            request,
            f"{count} fichier(s) abandonné(s) acquitté(s) : ils ne signalent plus d'incident. "
            "« python manage.py hubee_retry_downloads » peut encore les réessayer.",
            messages.SUCCESS,
        )

    def has_acknowledge_failed_permission(self, request):
        return request.user.has_perm("dossiers.acknowledge_failed_download")

    def get_queryset(self, request):
        # The agent pages' rule: view_dossier alone opens no other démarche (the inlines, files
        # and events, are reached only through a dossier shown here).
        return in_demarches_of(request.user, super().get_queryset(request), "demarche")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "demarche",
        "started_at",
        "finished_at",
        "status",
        "notifications_handled",
        "dossiers_created",
        "files_downloaded",
        "errors",
        "api_calls",
    ]
    list_filter = ["status", "demarche"]
    list_select_related = ["demarche"]


@admin.register(NotificationFailure)
class NotificationFailureAdmin(ReadOnlyAdmin):
    list_display = [
        "notification_id",
        "demarche",
        "kind",
        "attempts",
        "not_found_runs",
        "last_attempt_at",
        "given_up",
        "resolved_at",
    ]
    list_filter = ["kind", "given_up", "demarche"]
    search_fields = ["notification_id", "case_id", "event_id"]
    list_select_related = ["demarche"]
    actions = ["acknowledge"]
    # Not scoped like the received data (failures are followed and acknowledged by the
    # administrateurs techniques), but what names a dossier is hidden outside one's démarches.
    REVEALING = ["case_id", "event_id", "error"]

    def get_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields]
        if obj is not None and not self._sees(request, obj):
            fields = [name for name in fields if name not in self.REVEALING] + ["hidden_detail"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_search_fields(self, request):
        # Searching a case id would tell whether another démarche holds it.
        return self.search_fields if sees_all_dossiers(request.user) else ["notification_id"]

    @staticmethod
    def _sees(request, obj) -> bool:
        return demarches_for(request.user).filter(pk=obj.demarche_id).exists()

    @admin.display(description="détail")
    def hidden_detail(self, obj) -> str:
        return (
            "Masqué : le cas, l'événement et le texte de l'erreur peuvent désigner un dossier "
            "d'une démarche où vous n'êtes pas habilité."
        )

    def has_acknowledge_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.acknowledge_{opts.model_name}")

    @admin.action(
        description="Acquitter (un administrateur a pris connaissance)",
        permissions=["acknowledge"],
    )
    def acknowledge(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"{count} notification(s) acquittée(s).", messages.SUCCESS)


@admin.register(OutgoingEvent)
class OutgoingEventAdmin(AuditedReads, ReadOnlyAdmin):
    list_display = [
        "dossier",
        "action_type",
        "case_new_status",
        "state",
        "failure",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "failure", "action_type", "automatic"]
    list_select_related = ["dossier"]

    def get_queryset(self, request):
        # Messages to the applicant: the dossier's own rule.
        return in_demarches_of(request.user, super().get_queryset(request), "dossier__demarche")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail, read-only; kept settings.AUDIT_RETENTION_MONTHS months (36 or more)."""

    list_display = ["at", "username", "action", "dossier_ref", "object_ref", "detail"]
    list_filter = ["action", "at"]
    search_fields = ["username", "dossier_ref", "object_ref"]
    date_hierarchy = "at"
    list_select_related = []
    show_full_result_count = False

    def get_queryset(self, request):
        # Entries about a dossier follow its démarche (a purged one too); the others (list,
        # export, preferences, sync) name no dossier. A dossier deleted since keeps only its
        # number: shown to those who see every démarche.
        entries = super().get_queryset(request)
        if sees_all_dossiers(request.user):
            return entries
        return entries.filter(
            Q(dossier__demarche__in=demarches_for(request.user).values("pk"))
            | Q(dossier__isnull=True, dossier_ref="")
        )


@admin.register(AgentPreference)
class AgentPreferenceAdmin(FrenchWording, admin.ModelAdmin):
    list_display = ["user", "alert_mode", "last_seen_at"]
    list_filter = ["alert_mode"]
    fields = ["user", "alert_mode"]
    readonly_fields = ["user"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IntegrityCheck)
class IntegrityCheckAdmin(ReadOnlyAdmin):
    list_display = ["demarche", "started_at", "files_checked", "missing", "altered"]
    list_filter = ["demarche"]
    list_select_related = ["demarche"]


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "dossiers_purged", "files_deleted", "bytes_deleted"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "kind", "subject", "detail", "notified_at", "closed_at"]
    list_filter = ["kind", "closed_at"]


# The démarche's page says when its expired dossiers are purged: retention is dossiers' business.
admin.site.unregister(Demarche)


@admin.register(Demarche)
class DemarcheRetentionAdmin(DemarcheAdmin):
    readonly_fields = [*DemarcheAdmin.readonly_fields, "retention_summary"]
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "retention_summary"]})
        if (name, options) == RETENTION_FIELDSET
        else (name, options)
        for name, options in DemarcheAdmin.fieldsets
    ]

    @admin.display(description="Prochaine purge")
    def retention_summary(self, obj: Demarche) -> str:
        from django_q.models import Schedule

        schedule = Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).first()
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
