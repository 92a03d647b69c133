"""The sync journal: runs, notification failures, the démarche lease."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import (
    FailureKind,
    RunFailure,
    RunStatus,
)


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


class DemarchePoll(models.Model):
    """A démarche's last pass with HubEE, whatever it found: a pass that found nothing writes
    no SyncRun (2,500 démarches each minute would be 3.6 million rows a day), so health,
    incidents and the pages read its time and outcome here. Each finished SyncRun updates it
    too (dossiers.records.polls)."""

    demarche = models.OneToOneField(
        Demarche, on_delete=models.CASCADE, primary_key=True, related_name="poll"
    )
    polled_at = models.DateTimeField("dernier passage", null=True, blank=True)
    succeeded_at = models.DateTimeField("dernier passage réussi", null=True, blank=True)
    status = models.CharField(
        "résultat", max_length=10, choices=RunStatus.choices, default="", blank=True
    )
    failure_kind = models.CharField(
        "cause de l'échec", max_length=12, choices=RunFailure.choices, default="", blank=True
    )
    failures_in_row = models.PositiveIntegerField("échecs d'affilée", default=0)
    # The journaled run last counted: a run saved twice is counted once.
    last_run_id = models.BigIntegerField("dernière synchronisation journalisée", null=True)
    # Adaptive polling: the last notification found, or a person's request.
    active_at = models.DateTimeField("dernière activité", null=True, blank=True)
    # In a poll batch queued and not done yet: not planned again meanwhile (a slow HubEE would
    # otherwise add a batch of every démarche each minute).
    planned_at = models.DateTimeField("interrogation prévue le", null=True, blank=True)
    # A full run queued and not started yet: not queued again meanwhile.
    run_requested_at = models.DateTimeField("synchronisation demandée le", null=True, blank=True)
    # HubEE answered 429: not polled before (Retry-After).
    paused_until = models.DateTimeField("en pause jusqu'au", null=True, blank=True)

    class Meta:
        verbose_name = "dernier passage"
        verbose_name_plural = "derniers passages"

    def __str__(self) -> str:
        return f"{self.demarche_id}: {self.polled_at or '-'}"
