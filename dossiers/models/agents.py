"""What agents do: dossiers viewed, alert preferences, the audit journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dossiers.enums import (
    AlertMode,
    AuditAction,
)
from dossiers.models.received import Dossier


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
