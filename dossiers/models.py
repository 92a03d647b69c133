from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from demarches.enums import CaseStatus
from demarches.models import Demarche, TimestampedModel
from dossiers.enums import (
    ActionType,
    AlertMode,
    AttachmentState,
    AuditAction,
    Direction,
    EventStatus,
    FailureKind,
    OutgoingState,
    RunFailure,
    RunStatus,
)


class Dossier(TimestampedModel):
    """A HubEE case received by one of our démarches."""

    demarche = models.ForeignKey(
        Demarche, on_delete=models.PROTECT, related_name="dossiers", verbose_name="démarche"
    )
    hubee_case_id = models.UUIDField("identifiant HubEE du cas", unique=True, editable=False)
    external_id = models.CharField("numéro de télédossier", max_length=64, editable=False)
    process_code = models.CharField("code de la démarche", max_length=30, editable=False)
    status = models.CharField(
        "statut HubEE", max_length=20, choices=CaseStatus.choices, editable=False
    )
    applicant_first_name = models.CharField("prénom du demandeur", max_length=255, blank=True)
    applicant_last_name = models.CharField("nom du demandeur", max_length=255, blank=True)
    applicant_email = models.CharField("courriel du demandeur", max_length=320, blank=True)
    partner_attributes = models.TextField("attributs partenaire", blank=True, editable=False)
    hubee_created_at = models.DateTimeField("créé sur HubEE le", null=True, editable=False)
    hubee_updated_at = models.DateTimeField("modifié sur HubEE le", null=True, editable=False)
    hubee_transmitted_at = models.DateTimeField("transmis le", null=True, editable=False)
    hubee_closed_at = models.DateTimeField("clos le", null=True, editable=False)
    received_at = models.DateTimeField("reçu le", default=timezone.now, editable=False)
    # Sanitised external id: the folder of this dossier inside the démarche folder.
    folder_name = models.CharField("dossier sur disque", max_length=255, editable=False)
    raw = models.JSONField("données HubEE brutes", default=dict, editable=False)
    # Set by the retention purge: files and personal data gone, external_id is its SHA-256.
    purged_at = models.DateTimeField("purgé le", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "dossier"
        verbose_name_plural = "dossiers"
        ordering = ["-received_at"]
        # A supervisor's permission, held directly or through a group; is_staff alone sees no
        # dossier (dossiers.access).
        permissions = [("view_all_dossiers", "Voir tous les dossiers")]
        constraints = [
            models.UniqueConstraint(
                fields=["demarche", "folder_name"],
                name="dossier_unique_folder_per_demarche",
                violation_error_message="Ce dossier sur disque est déjà utilisé.",
            )
        ]
        indexes = [
            # purged_at included: the list counts its queues with an index-only scan.
            models.Index(
                fields=["demarche", "status", "purged_at"], name="dossier_demarche_status_idx"
            ),
            # The list's order (newest first, then id), read in order with no sort: for everyone,
            # and for one démarche (its filter, or each of an agent's démarches). Not partial on
            # purged_at: SQLite, without statistics, would then pick them for every other sort.
            models.Index(fields=["-received_at", "-id"], name="dossier_received_idx"),
            models.Index(
                fields=["demarche", "-received_at", "-id"], name="dossier_demarche_received_idx"
            ),
            models.Index(fields=["external_id"], name="dossier_external_id_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def folder(self) -> Path:
        return Path(self.demarche.download_folder) / self.folder_name


class Evenement(TimestampedModel):
    hubee_event_id = models.UUIDField("identifiant HubEE", unique=True, editable=False)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="evenements", verbose_name="dossier"
    )
    action_type = models.CharField("type d'action", max_length=100, editable=False)
    direction = models.CharField("sens", max_length=10, choices=Direction.choices)
    message = models.TextField("message", blank=True)
    comment = models.TextField("commentaire interne", blank=True)
    author = models.CharField("auteur", max_length=255, blank=True)
    case_current_status = models.CharField("statut avant", max_length=20, blank=True)
    case_new_status = models.CharField("nouveau statut", max_length=20, blank=True)
    hubee_status = models.CharField(
        "statut de l'événement", max_length=12, choices=EventStatus.choices, blank=True
    )
    hubee_created_at = models.DateTimeField("créé sur HubEE le", null=True)
    hubee_updated_at = models.DateTimeField("modifié sur HubEE le", null=True)
    raw = models.JSONField("données HubEE brutes", default=dict, editable=False)

    class Meta:
        verbose_name = "événement"
        verbose_name_plural = "événements"
        ordering = ["hubee_created_at", "id"]
        indexes = [
            models.Index(fields=["dossier", "hubee_created_at"], name="evenement_dossier_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_label()} ({self.hubee_event_id})"

    def get_action_label(self) -> str:
        try:
            return ActionType(self.action_type).label
        except ValueError:
            return self.action_type


class PieceJointe(TimestampedModel):
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="pieces_jointes", verbose_name="dossier"
    )
    evenement = models.ForeignKey(
        Evenement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pieces_jointes",
        verbose_name="événement",
    )
    hubee_attachment_id = models.UUIDField("identifiant HubEE", editable=False)
    file_name = models.CharField("nom d'origine", max_length=1000, editable=False)
    # Relative to the démarche folder; reserved before the download so a rerun reuses it.
    stored_path = models.CharField("chemin enregistré", max_length=1000, editable=False)
    attachment_type = models.CharField("type", max_length=100, blank=True, editable=False)
    mime_type = models.CharField("type MIME", max_length=255, blank=True, editable=False)
    size = models.BigIntegerField("taille (octets)", null=True, editable=False)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True, editable=False)
    hubee_status = models.CharField("statut HubEE", max_length=10, blank=True, editable=False)
    state = models.CharField(
        "état", max_length=12, choices=AttachmentState.choices, default=AttachmentState.PENDING
    )
    state_detail = models.TextField("détail", blank=True)
    downloaded_at = models.DateTimeField("téléchargé le", null=True, editable=False)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "hubee_attachment_id"],
                name="piecejointe_unique_per_dossier",
                violation_error_message="Cette pièce jointe est déjà enregistrée pour ce dossier.",
            ),
            models.UniqueConstraint(
                fields=["dossier", "stored_path"],
                name="piecejointe_unique_path",
                violation_error_message="Ce chemin est déjà utilisé par une autre pièce jointe.",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def absolute_path(self) -> Path:
        return Path(self.dossier.demarche.download_folder) / self.stored_path


class OutgoingEvent(TimestampedModel):
    """An event we must send to HubEE (outbox): never sent twice."""

    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="envois", verbose_name="dossier"
    )
    action_type = models.CharField(
        "type d'action", max_length=30, choices=ActionType.choices, default=ActionType.STATUS_UPDATE
    )
    case_new_status = models.CharField("nouveau statut", max_length=20, blank=True)
    message = models.TextField("message", blank=True)
    author = models.CharField("auteur", max_length=255)
    automatic = models.BooleanField("automatique", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name="agent",
    )
    state = models.CharField(
        "état", max_length=10, choices=OutgoingState.choices, default=OutgoingState.PENDING
    )
    attempts = models.PositiveIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    # Set before each POST, cleared once its outcome is known: while set, the POST may still land
    # on HubEE, and no new one is sent (dossiers.outbox.check_unfinished_attempt).
    post_unanswered_since = models.DateTimeField("envoi sans réponse depuis", null=True, blank=True)
    hubee_event_id = models.UUIDField("identifiant HubEE", null=True, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "envoi à HubEE"
        verbose_name_plural = "envois à HubEE"
        ordering = ["id"]
        indexes = [models.Index(fields=["state"], name="outgoing_state_idx")]

    def __str__(self) -> str:
        return f"{self.action_type} {self.case_new_status} ({self.get_state_display()})"


class SyncRun(models.Model):
    """Journal: one row per run and démarche."""

    demarche = models.ForeignKey(
        Demarche, on_delete=models.CASCADE, related_name="sync_runs", verbose_name="démarche"
    )
    started_at = models.DateTimeField("début", default=timezone.now)
    finished_at = models.DateTimeField("fin", null=True)
    status = models.CharField(
        "résultat", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    notifications_handled = models.PositiveIntegerField("notifications traitées", default=0)
    dossiers_created = models.PositiveIntegerField("dossiers créés", default=0)
    files_downloaded = models.PositiveIntegerField("fichiers téléchargés", default=0)
    bytes_downloaded = models.BigIntegerField("octets téléchargés", default=0)
    errors = models.PositiveIntegerField("erreurs", default=0)
    api_calls = models.PositiveIntegerField("appels à l'API", default=0)
    message = models.TextField("message", blank=True)
    failure_kind = models.CharField(
        "cause de l'échec", max_length=12, choices=RunFailure.choices, default="", blank=True
    )

    class Meta:
        verbose_name = "synchronisation"
        verbose_name_plural = "journal des synchronisations"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["demarche", "-started_at"], name="syncrun_demarche_idx")]

    def __str__(self) -> str:
        return f"{self.demarche} — {self.started_at:%d/%m/%Y %H:%M}"


class NotificationFailure(models.Model):
    """Journal: a notification that could not be handled (kept on HubEE unless given up)."""

    demarche = models.ForeignKey(
        Demarche, on_delete=models.CASCADE, related_name="failures", verbose_name="démarche"
    )
    notification_id = models.UUIDField("notification")
    case_id = models.UUIDField("cas", null=True, blank=True)
    event_id = models.UUIDField("événement", null=True, blank=True)
    kind = models.CharField("nature", max_length=12, choices=FailureKind.choices)
    error = models.TextField("erreur")
    attempts = models.PositiveIntegerField("tentatives", default=0)
    not_found_runs = models.PositiveIntegerField("synchronisations en 404", default=0)
    first_failed_at = models.DateTimeField("premier échec", default=timezone.now)
    last_attempt_at = models.DateTimeField("dernière tentative", default=timezone.now)
    last_run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    given_up = models.BooleanField("abandonnée", default=False)
    given_up_at = models.DateTimeField("abandonnée le", null=True, blank=True)
    resolved_at = models.DateTimeField("résolue le", null=True, blank=True)

    class Meta:
        verbose_name = "notification en échec"
        verbose_name_plural = "notifications en échec"
        ordering = ["-last_attempt_at"]
        # Acknowledging turns /healthz green: its own permission, the rows stay read-only.
        permissions = [("acknowledge_notificationfailure", "Acquitter une notification en échec")]
        constraints = [
            models.UniqueConstraint(
                fields=["demarche", "notification_id"], name="failure_unique_notification"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} ({self.get_kind_display()})"


class DemarcheLease(models.Model):
    """Who syncs a démarche now: taken with a conditional UPDATE (works on SQLite too)."""

    demarche = models.OneToOneField(
        Demarche, on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    owner = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "verrou de synchronisation"
        verbose_name_plural = "verrous de synchronisation"

    def __str__(self) -> str:
        return f"{self.demarche_id}: {self.owner or '-'}"


class OutgoingAttachment(TimestampedModel):
    """A document an agent returns to the citizen (ATTACH_DEPOSIT), kept until HubEE has it."""

    outgoing = models.ForeignKey(
        OutgoingEvent, on_delete=models.CASCADE, related_name="attachments", verbose_name="envoi"
    )
    position = models.PositiveSmallIntegerField("ordre")
    file_name = models.CharField("nom du fichier", max_length=255)
    attachment_type = models.CharField("type HubEE", max_length=100)
    mime_type = models.CharField("type MIME", max_length=255)
    size = models.BigIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    # Relative to the démarche folder, like PieceJointe.stored_path.
    stored_path = models.CharField("chemin enregistré", max_length=1000)
    hubee_attachment_id = models.UUIDField("identifiant HubEE", null=True, blank=True)
    uploaded_at = models.DateTimeField("déposé sur HubEE le", null=True, blank=True)

    class Meta:
        verbose_name = "document renvoyé"
        verbose_name_plural = "documents renvoyés"
        ordering = ["outgoing", "position"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def absolute_path(self) -> Path:
        return Path(self.outgoing.dossier.demarche.download_folder) / self.stored_path


class DossierView(models.Model):
    """When an agent last opened a dossier: what arrived after it is unread for them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="agent"
    )
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="views", verbose_name="dossier"
    )
    viewed_at = models.DateTimeField("consulté le", default=timezone.now)

    class Meta:
        verbose_name = "consultation d'un dossier"
        verbose_name_plural = "consultations des dossiers"
        constraints = [
            models.UniqueConstraint(fields=["user", "dossier"], name="dossierview_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.dossier_id}"


class AgentPreference(models.Model):
    """An agent's alert choice and the marks of what was already shown or sent to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_preference",
        verbose_name="agent",
    )
    alert_mode = models.CharField(
        "alertes par courriel", max_length=10, choices=AlertMode.choices, default=AlertMode.NONE
    )
    alerts_sent_until = models.DateTimeField("alertes envoyées jusqu'au", default=timezone.now)
    digest_sent_until = models.DateTimeField("récapitulatif envoyé jusqu'au", default=timezone.now)
    last_seen_at = models.DateTimeField("dernier passage au tableau de bord", null=True)
    new_since = models.DateTimeField("nouveautés comptées depuis", null=True)

    class Meta:
        verbose_name = "préférence d'agent"
        verbose_name_plural = "préférences des agents"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_alert_mode_display()})"


class AuditEntry(models.Model):
    """Who consulted, downloaded or did what, and when. Ids only: no personal data."""

    at = models.DateTimeField("date", default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="agent",
    )
    # Kept when the account is deleted.
    username = models.CharField("identifiant de l'agent", max_length=150)
    action = models.CharField("action", max_length=20, choices=AuditAction.choices)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="dossier"
    )
    dossier_ref = models.CharField("numéro de télédossier", max_length=64, blank=True)
    object_ref = models.CharField("objet", max_length=100, blank=True)
    detail = models.CharField("détail", max_length=255, blank=True)

    class Meta:
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at"], name="audit_at_idx"),
            models.Index(fields=["dossier", "-at"], name="audit_dossier_idx"),
            models.Index(fields=["user", "-at"], name="audit_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.username} {self.get_action_display()}"


class Heartbeat(models.Model):
    """The worker's pulse: a scheduled task touches its row every minute (see /healthz)."""

    name = models.CharField("nom", max_length=50, unique=True)
    beat_at = models.DateTimeField("dernier battement", default=timezone.now)

    class Meta:
        verbose_name = "battement du worker"
        verbose_name_plural = "battements du worker"

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%d/%m/%Y %H:%M:%S}"


class IntegrityCheck(models.Model):
    """One run of hubee_verify for one démarche: stored files re-hashed against their SHA-256."""

    demarche = models.ForeignKey(
        Demarche, on_delete=models.CASCADE, related_name="integrity_checks", verbose_name="démarche"
    )
    started_at = models.DateTimeField("début", default=timezone.now)
    finished_at = models.DateTimeField("fin", null=True)
    files_checked = models.PositiveIntegerField("fichiers vérifiés", default=0)
    missing = models.PositiveIntegerField("fichiers manquants", default=0)
    altered = models.PositiveIntegerField("fichiers altérés", default=0)
    # Ids of the PieceJointe rows concerned: {"missing": [...], "altered": [...]}.
    details = models.JSONField("détail (identifiants des pièces)", default=dict)

    class Meta:
        verbose_name = "contrôle d'intégrité"
        verbose_name_plural = "contrôles d'intégrité"
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["demarche", "-started_at"], name="integrity_demarche_idx")]

    def __str__(self) -> str:
        return f"{self.demarche} — {self.started_at:%d/%m/%Y %H:%M}"

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered)


class PurgeRun(models.Model):
    """Journal of the retention purge (hubee_purge): what it removed, by ids only."""

    started_at = models.DateTimeField("début", default=timezone.now)
    finished_at = models.DateTimeField("fin", null=True)
    dossiers_purged = models.PositiveIntegerField("dossiers purgés", default=0)
    files_deleted = models.PositiveIntegerField("fichiers supprimés", default=0)
    bytes_deleted = models.BigIntegerField("octets supprimés", default=0)
    # {"dossiers": [ids], "errors": [ids whose files could not all be removed]}
    details = models.JSONField("détail (identifiants)", default=dict)

    class Meta:
        verbose_name = "purge des dossiers expirés"
        verbose_name_plural = "purges des dossiers expirés"
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%d/%m/%Y %H:%M} — {self.dossiers_purged} dossier(s)"


class Incident(models.Model):
    """Something that needs an administrator (a /healthz problem): opened once, mailed once,
    closed (and its end mailed) once the condition has been clear for 15 minutes. A later
    occurrence is a new incident."""

    kind = models.CharField("nature", max_length=20)
    subject = models.CharField("objet", max_length=50, blank=True)
    detail = models.TextField("détail")
    opened_at = models.DateTimeField("ouvert le", default=timezone.now)
    notified_at = models.DateTimeField("administrateurs prévenus le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)
    clear_since = models.DateTimeField("problème absent depuis", null=True, blank=True)
    closed_notified_at = models.DateTimeField(
        "fin de l'incident annoncée le", null=True, blank=True
    )
    # A mail that could not be sent is tried again later, with a growing delay.
    mail_attempts = models.PositiveIntegerField("envois de courriel tentés", default=0)
    mail_attempted_at = models.DateTimeField("dernier envoi tenté le", null=True, blank=True)
    mail_error = models.CharField("erreur d'envoi", max_length=200, blank=True)

    class Meta:
        verbose_name = "incident"
        verbose_name_plural = "incidents"
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(closed_at__isnull=True),
                name="incident_unique_open",
                violation_error_message="Cet incident est déjà ouvert.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}".strip()
