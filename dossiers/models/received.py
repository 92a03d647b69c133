"""Received cases: the dossiers, their events and attachments."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from demarches.enums import CaseStatus
from demarches.models import Demarche, TimestampedModel
from dossiers.enums import (
    ActionType,
    AttachmentState,
    Direction,
    EventStatus,
    ScanState,
)
from hubee_portal.hubee.vocabulary import QUEUE_DONE, QUEUE_WAITING

# The queues' values (dossiers.records.queues.Queue, which the models cannot import).
TODO, WAITING, DONE = "a-traiter", "en-attente", "traites"


def _values(statuses) -> list[str]:
    # Plain strings, in a fixed order: the migration's expression does not change by itself.
    return sorted(str(status.value) for status in statuses)


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
    # The agent in charge, at most one (dossiers.records.assignment): set by a conditional
    # UPDATE, cleared when they lose the démarche, are deactivated, or the dossier is purged.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_dossiers",
        verbose_name="attribué à",
        editable=False,
    )
    assigned_at = models.DateTimeField("attribué le", null=True, blank=True, editable=False)
    # The work queue of the status, computed by the database: the queue tabs read it in the
    # list's order from one index, whatever the statuses inside.
    queue = models.GeneratedField(
        expression=models.Case(
            models.When(
                status__in=sorted(s.value for s in QUEUE_WAITING), then=models.Value(WAITING)
            ),
            models.When(status__in=sorted(s.value for s in QUEUE_DONE), then=models.Value(DONE)),
            default=models.Value(TODO),
        ),
        output_field=models.CharField(max_length=12),
        db_persist=True,
        verbose_name="file",
    )
    # Kept by the exchange as the events arrive and the pushes are queued: the list's « nouveau
    # message » and the statistics read them without going through every event (they also
    # outlive the retention purge).
    last_citizen_at = models.DateTimeField(
        "dernier message de l'usager le", null=True, blank=True, editable=False
    )
    first_action_at = models.DateTimeField(
        "première action d'un agent le", null=True, blank=True, editable=False
    )
    decided_at = models.DateTimeField("décision demandée le", null=True, blank=True, editable=False)
    # Which decision came first (DONE or REFUSED, "" before any), and the two delays from
    # received_at in whole seconds: the statistics read their percentiles from an index.
    decision = models.CharField("décision", max_length=20, blank=True, default="", editable=False)
    first_action_delay = models.PositiveIntegerField(
        "délai de première action (secondes)", null=True, blank=True, editable=False
    )
    decision_delay = models.PositiveIntegerField(
        "délai de décision (secondes)", null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = "dossier"
        verbose_name_plural = "dossiers"
        ordering = ["-received_at"]
        # A supervisor's permission, held directly or through a group; is_staff alone sees no
        # dossier (dossiers.records.access).
        permissions = [("view_all_dossiers", "Voir tous les dossiers")]
        constraints = [
            models.UniqueConstraint(
                fields=["demarche", "folder_name"],
                name="dossier_unique_folder_per_demarche",
                violation_error_message="Ce dossier sur disque est déjà utilisé.",
            )
        ]
        indexes = [
            # purged_at and assigned_to included: the list counts its queues with an index-only
            # scan, « Attribué à » set or not.
            models.Index(
                fields=["demarche", "status", "purged_at", "assigned_to"],
                name="dossier_demarche_status_idx",
            ),
            # The list's order (newest first, then id), read in order with no sort: for everyone,
            # and for one démarche (its filter, or each of an agent's démarches). Not partial on
            # purged_at: SQLite, without statistics, would then pick them for every other sort.
            models.Index(fields=["-received_at", "-id"], name="dossier_received_idx"),
            models.Index(
                fields=["demarche", "-received_at", "-id"], name="dossier_demarche_received_idx"
            ),
            models.Index(fields=["external_id"], name="dossier_external_id_idx"),
            # « Mes dossiers » and the « Attribué à » filter, read in the list's order; also
            # counts an agent's dossiers without touching the others.
            models.Index(
                fields=["assigned_to", "-received_at", "-id"], name="dossier_assigned_idx"
            ),
            # A status filter (with a search) in the list's order: the status's rows only.
            models.Index(
                fields=["demarche", "status", "-received_at", "-id"],
                name="dossier_status_received_idx",
            ),
            # The queue tabs in the list's order, with no sort of the whole queue.
            models.Index(fields=["queue", "-received_at", "-id"], name="dossier_queue_idx"),
            # « Nouveau message de l'usager »: the few dossiers the citizen wrote on, with what
            # the dashboard counts them by (no read of the rows, whose JSON is long).
            models.Index(
                fields=["last_citizen_at", "demarche", "status", "purged_at"],
                name="dossier_citizen_idx",
            ),
            # The statistics: decisions per week (and refusals) as index ranges, and each
            # delay's percentile as « ORDER BY delay OFFSET k » over the dossiers received in
            # the period, all read from the index alone. Partial: SQLite, without statistics,
            # would otherwise take them for the list of a démarche (démarche first) and sort.
            models.Index(
                fields=["demarche", "decided_at", "decision"],
                name="dossier_decided_idx",
                condition=models.Q(decided_at__isnull=False),
            ),
            models.Index(
                fields=["demarche", "first_action_delay", "received_at"],
                name="dossier_first_action_idx",
                condition=models.Q(first_action_delay__isnull=False),
            ),
            models.Index(
                fields=["demarche", "decision_delay", "received_at"],
                name="dossier_decision_delay_idx",
                condition=models.Q(decision_delay__isnull=False),
            ),
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
    comment = models.TextField("commentaire HubEE (non visible par l'usager)", blank=True)
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
            models.Index(fields=["dossier", "hubee_created_at"], name="evenement_dossier_idx"),
            # The list's « Nouveau message de l'usager » filter: the few dossiers the citizen
            # wrote on, found without testing every dossier.
            models.Index(
                fields=["action_type", "direction", "dossier", "created_at"],
                name="evenement_citizen_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_label()} ({self.hubee_event_id})"

    def get_action_label(self) -> str:
        try:
            return ActionType(self.action_type).label
        except ValueError:
            return self.action_type


def initial_scan() -> str:
    """A new file waits for the antivirus when it is on (dossiers.records.antivirus)."""
    return ScanState.PENDING if settings.ANTIVIRUS == "clamd" else ScanState.OFF


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
    # Runs whose download failed its size or digest check, since the last success or retry.
    download_failures = models.PositiveSmallIntegerField(
        "téléchargements en échec", default=0, editable=False
    )
    # A given-up file (FAILED) an administrator took note of: no more incident for it (HubEE
    # may never send it again). Cleared by a retry, so that a new failure is told.
    failure_acknowledged_at = models.DateTimeField(
        "abandon acquitté le", null=True, blank=True, editable=False
    )
    # Agents open a file only once the antivirus cleared it (or when it is off).
    scan = models.CharField(
        "analyse antivirus",
        max_length=12,
        choices=ScanState.choices,
        default=initial_scan,
        editable=False,
    )
    scan_signature = models.CharField("signature détectée", max_length=200, blank=True)
    scanned_at = models.DateTimeField("analysé le", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["id"]
        # Acknowledging turns /healthz green: its own permission, as for notifications.
        permissions = [("acknowledge_failed_download", "Acquitter un fichier HubEE abandonné")]
        indexes = [
            # The periodic retry and « État du portail » read the few files held back (waiting,
            # infected, unscannable), never the whole table.
            models.Index(
                fields=["scan"],
                condition=models.Q(scan__in=["infected", "pending", "unscannable"]),
                name="piecejointe_scan_held_idx",
            )
        ]
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
        return visible_name(self.file_name)

    @property
    def absolute_path(self) -> Path:
        return Path(self.dossier.demarche.download_folder) / self.stored_path


# What changes how a name reads without being seen: C0/C1 controls (NUL too), bidi controls
# and other format characters (U+202E turns « facture[U+202E]fdp.exe » into what reads
# « factureexe.pdf »), line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def visible_name(text: str) -> str:
    """A name received from HubEE as it may be displayed: each hidden character written out,
    « [U+202E] » (the template filter piece_name also says the real extension)."""
    return "".join(
        f"[U+{ord(char):04X}]" if unicodedata.category(char) in HIDDEN_CATEGORIES else char
        for char in text
    )
