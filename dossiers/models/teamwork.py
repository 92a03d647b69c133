"""What agents do among themselves on a dossier: who took it, who handed it to whom, notes.
None of it is ever sent to HubEE."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dossiers.enums import ActivityKind
from dossiers.models.received import Dossier


class DossierActivity(models.Model):
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="activities", verbose_name="dossier"
    )
    kind = models.CharField("nature", max_length=20, choices=ActivityKind.choices)
    at = models.DateTimeField("le", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="par",
    )
    # Names as they were: the history still reads right once an account is gone.
    by_name = models.CharField("par (nom)", max_length=255, blank=True)
    to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="à",
    )
    to_name = models.CharField("à (nom)", max_length=255, blank=True)
    # A note's text, or why the dossier was released automatically. Erased by the retention
    # purge with the dossier's personal data.
    text = models.TextField("texte", blank=True)

    class Meta:
        verbose_name = "activité d'équipe sur un dossier"
        verbose_name_plural = "activités d'équipe sur les dossiers"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["dossier", "at"], name="activity_dossier_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.dossier_id})"
