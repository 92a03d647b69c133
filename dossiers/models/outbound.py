"""Agent pushes to HubEE waiting to be sent, and their files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from demarches.models import TimestampedModel
from dossiers.enums import (
    ActionType,
    OutgoingState,
)
from dossiers.models.received import Dossier


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
    # on HubEE, and no new one is sent (dossiers.exchange.outbound.outbox.check_unfinished_attempt).
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
