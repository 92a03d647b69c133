"""Agent pushes to HubEE waiting to be sent, and their files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from demarches.models import TimestampedModel
from dossiers.enums import (
    ActionType,
    OutgoingState,
    SendFailure,
)
from dossiers.models.received import Dossier, visible_name


class OutgoingEventQuerySet(models.QuerySet):
    """The outbox's schedule. The pending rows of one dossier are always scheduled together:
    they are sent together, in order (status pushes must stay ordered)."""

    def pending(self) -> OutgoingEventQuerySet:
        return self.filter(state=OutgoingState.PENDING)

    def due(self, now: datetime) -> OutgoingEventQuerySet:
        # NULL: never tried nor postponed (a new row), hence due at once.
        return self.pending().filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))

    def claim(self, dossier_id: int, now: datetime, until: datetime, *, due_only: bool) -> int:
        """Take the dossier's pending rows until `until` with one conditional UPDATE; returns how
        many were taken (0: none pending, or with due_only, none due any more). A delivery killed
        midway leaves them due again at `until`."""
        rows = self.due(now) if due_only else self.pending()
        return rows.filter(dossier_id=dossier_id).update(next_attempt_at=until, updated_at=now)

    def reschedule(self, dossier_id: int, when: datetime) -> int:
        return (
            self.pending()
            .filter(dossier_id=dossier_id)
            .update(next_attempt_at=when, updated_at=timezone.now())
        )

    def record_failed_try(
        self,
        dossier_id: int,
        before: dict[int, int],
        error: Exception,
        now: datetime,
        failure: str = SendFailure.LOCAL,
    ) -> datetime | None:
        """A delivery of the dossier failed: count the try on each row of `before` (pk →
        attempts when the delivery began) that was not posted in it (reading the case failed, or
        an earlier push did), fail the rows out of attempts, back the others off. Returns when
        they are due again (None: none left pending)."""
        limit = settings.HUBEE_OUTBOX_MAX_ATTEMPTS
        most = 0
        for outgoing in self.pending().filter(pk__in=before):
            if outgoing.attempts == before[outgoing.pk]:
                outgoing.attempts += 1
                outgoing.last_error = str(error)
                outgoing.failure = failure
            if outgoing.attempts >= limit:
                outgoing.state = OutgoingState.FAILED
                outgoing.next_attempt_at = None
            outgoing.save(
                update_fields=[
                    "attempts",
                    "last_error",
                    "failure",
                    "state",
                    "next_attempt_at",
                    "updated_at",
                ]
            )
            if outgoing.state == OutgoingState.PENDING:
                most = max(most, outgoing.attempts)
        if not most:
            return None
        when = now + OutgoingEvent.backoff(most)
        self.reschedule(dossier_id, when)
        return when


class OutgoingEvent(TimestampedModel):
    """An event we must send to HubEE (outbox): never sent twice."""

    # Backoff after a failed delivery: 30 s, 1 min, 2 min… at most 15 min.
    FIRST_RETRY = timedelta(seconds=30)
    LAST_RETRY = timedelta(minutes=15)

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
    # Technical (HubEE's text, HTTP codes): staff pages and logs only; agents read `failure`.
    last_error = models.TextField("dernière erreur", blank=True)
    failure = models.CharField(
        "cause", max_length=20, choices=SendFailure.choices, default=SendFailure.NONE, blank=True
    )
    # Set before each POST, cleared once its outcome is known: while set, the POST may still land
    # on HubEE, and no new one is sent (dossiers.exchange.outbound.push.check_unfinished_attempt).
    post_unanswered_since = models.DateTimeField("envoi sans réponse depuis", null=True, blank=True)
    hubee_event_id = models.UUIDField("identifiant HubEE", null=True, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    # Pending rows only: the periodic delivery does not try them before (NULL: at once).
    next_attempt_at = models.DateTimeField("prochain essai le", null=True, blank=True)

    objects = OutgoingEventQuerySet.as_manager()

    class Meta:
        verbose_name = "envoi à HubEE"
        verbose_name_plural = "envois à HubEE"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state"], name="outgoing_state_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="outgoing_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_type} {self.case_new_status} ({self.get_state_display()})"

    @classmethod
    def backoff(cls, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed try."""
        return min(cls.FIRST_RETRY * 2 ** max(attempts - 1, 0), cls.LAST_RETRY)

    @staticmethod
    def settle() -> timedelta:
        """How long an unanswered POST may still land on HubEE: the HTTP timeouts."""
        return timedelta(seconds=settings.HUBEE_CONNECT_TIMEOUT + settings.HUBEE_READ_TIMEOUT)

    def unanswered_until(self) -> datetime | None:
        """Until when an unanswered POST of this push may still land on HubEE (None: none)."""
        if self.post_unanswered_since is None:
            return None
        return self.post_unanswered_since + self.settle()

    def begin_post(self, now: datetime, mark: str) -> None:
        """Count the try and leave `mark` before the POST, committed: a crash during the POST
        leaves them for the next run."""
        self.attempts += 1
        self.last_error = mark
        self.post_unanswered_since = now
        self.save(update_fields=["attempts", "last_error", "post_unanswered_since", "updated_at"])


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
        return visible_name(self.file_name)

    @property
    def absolute_path(self) -> Path:
        return Path(self.outgoing.dossier.demarche.download_folder) / self.stored_path
