"""Operations records: worker heartbeat, integrity checks, purges, incidents."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from demarches.models import Demarche


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
