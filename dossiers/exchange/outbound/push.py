"""One push to HubEE, whatever its kind: the POST's bookkeeping (a POST is never repeated while
it may still land), and what we record once HubEE has the event (or refused it for good)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dossiers.enums import AttachmentState, Direction, OutgoingState, SendFailure
from dossiers.exchange.outbound.failures import classify
from dossiers.models import Dossier, Evenement, OutgoingEvent, PieceJointe
from dossiers.records import antivirus
from hubee_portal.hubee import Event, TransientError
from hubee_portal.hubee.vocabulary import ActionType, AttachmentStatus, EventStatus

logger = logging.getLogger(__name__)

# Shown to agents while a POST's outcome is unknown (OutgoingEvent.post_unanswered_since set).
UNFINISHED_ATTEMPT = "Envoi à HubEE commencé, sans réponse reçue (processus interrompu ?)."
FOREIGN_EVENT = (
    "HubEE a répondu avec l'identifiant d'un événement déjà enregistré sur un autre dossier du "
    "portail : cet autre dossier n'a pas été modifié et l'envoi est marqué en échec. Vérifiez "
    "sur HubEE s'il a été reçu avant de le renvoyer, et faites vérifier la connexion HubEE de "
    "la démarche par l'administrateur technique."
)


class ForeignEventError(Exception):
    """HubEE answered an event id already stored on another dossier: that row is left alone."""


class UnfinishedAttemptError(TransientError):
    """A POST of this push went unanswered less than the HTTP timeouts ago: it may still land on
    HubEE after we read the case back, so sending it again now could push it twice."""


def check_unfinished_attempt(outgoing: OutgoingEvent) -> None:
    until = outgoing.unanswered_until()
    if until is not None and until > timezone.now():
        raise UnfinishedAttemptError(
            "Un envoi précédent de cet événement a été interrompu, sans réponse, il y a moins de "
            f"{OutgoingEvent.settle().total_seconds():.0f} s et peut encore aboutir chez HubEE : "
            "nouvel essai à la prochaine synchronisation, pour ne pas l'envoyer deux fois.",
            ambiguous=False,
        )


def before_post(outgoing: OutgoingEvent) -> None:
    check_unfinished_attempt(outgoing)
    outgoing.begin_post(timezone.now(), UNFINISHED_ATTEMPT)


def after_post_error(outgoing: OutgoingEvent, exc: Exception) -> None:
    """Record a failed POST. Unanswered (ambiguous), it may still land on HubEE: the mark stays,
    counted from now, and check_unfinished_attempt holds the next try until it cannot."""
    if getattr(exc, "ambiguous", False):
        outgoing.post_unanswered_since = timezone.now()
        outgoing.failure = SendFailure.UNFINISHED
    else:
        outgoing.post_unanswered_since = None
        outgoing.last_error = str(exc)
        outgoing.failure = classify(exc)
    outgoing.save(update_fields=["last_error", "failure", "post_unanswered_since", "updated_at"])


def record_or_fail(dossier: Dossier, outgoing: OutgoingEvent, event: Event) -> None:
    try:
        record_sent(dossier, outgoing, event)
    except ForeignEventError:
        logger.warning(
            "outgoing %s: HubEE answered event %s of another dossier", outgoing.pk, event.id
        )
        fail(outgoing, FOREIGN_EVENT, SendFailure.FOREIGN)


def fail(outgoing: OutgoingEvent, error: str, failure: str = SendFailure.REFUSED) -> None:
    outgoing.state = OutgoingState.FAILED
    outgoing.last_error = error
    outgoing.failure = failure
    outgoing.post_unanswered_since = None  # refused: nothing can still land
    outgoing.next_attempt_at = None
    outgoing.save(
        update_fields=[
            "state",
            "last_error",
            "failure",
            "post_unanswered_since",
            "next_attempt_at",
            "updated_at",
        ]
    )
    logger.warning("outgoing %s refused by HubEE (%s)", outgoing.pk, failure)


def skip(dossier: Dossier, outgoing: OutgoingEvent) -> None:
    if outgoing.automatic:
        # The case is already there (re-sent case, an agent was quicker): nothing to send.
        outgoing.delete()
        return
    outgoing.state = OutgoingState.FAILED
    outgoing.last_error = (
        f"Le dossier est déjà au statut {dossier.get_status_display()} : "
        "un statut HubEE ne revient pas en arrière."
    )
    outgoing.failure = SendFailure.BACKWARDS
    outgoing.next_attempt_at = None
    outgoing.save(update_fields=["state", "last_error", "failure", "next_attempt_at", "updated_at"])


def record_sent(dossier: Dossier, outgoing: OutgoingEvent, event: Event) -> None:
    now = timezone.now()
    with transaction.atomic():
        outgoing.state = OutgoingState.SENT
        outgoing.hubee_event_id = event.id
        outgoing.sent_at = now
        outgoing.last_error = ""
        outgoing.failure = SendFailure.NONE
        outgoing.post_unanswered_since = None
        outgoing.next_attempt_at = None
        outgoing.save()
        evenement = _store_sent_event(
            dossier,
            event.id,
            {
                "action_type": outgoing.action_type,
                "direction": Direction.SENT,
                "message": outgoing.message,
                "author": outgoing.author,
                "case_current_status": (event.case_current_status or dossier.status)[:20],
                "case_new_status": outgoing.case_new_status,
                "hubee_status": (event.status or EventStatus.SENT)[:12],
                "hubee_created_at": event.create_date_time or now,
                "raw": dict(event.raw),
            },
        )
        if outgoing.action_type == ActionType.ATTACH_DEPOSIT:
            _record_returned_files(dossier, outgoing, evenement)
        if outgoing.case_new_status:
            Dossier.objects.filter(pk=dossier.pk).update(
                status=outgoing.case_new_status, updated_at=now
            )


def _store_sent_event(dossier: Dossier, event_id: str, values: dict[str, Any]) -> Evenement:
    """The dossier's row for the event HubEE created; ForeignEventError, and nothing written,
    when another dossier holds that id (stored before, or meanwhile by another démarche)."""
    evenement = Evenement.objects.filter(hubee_event_id=event_id).first()
    if evenement is None:
        try:
            with transaction.atomic():
                return Evenement.objects.create(dossier=dossier, hubee_event_id=event_id, **values)
        except IntegrityError:
            evenement = Evenement.objects.filter(hubee_event_id=event_id).first()
            if evenement is None:
                raise
    if evenement.dossier_id != dossier.pk:
        raise ForeignEventError(event_id)
    for name, value in values.items():
        setattr(evenement, name, value)
    evenement.save()
    return evenement


def _record_returned_files(dossier: Dossier, outgoing: OutgoingEvent, evenement: Evenement) -> None:
    """The returned documents join the dossier's attachments (downloadable like the others,
    once the antivirus has seen them)."""
    ids = []
    for item in outgoing.attachments.order_by("position"):
        piece, _ = PieceJointe.objects.update_or_create(
            dossier=dossier,
            hubee_attachment_id=item.hubee_attachment_id,
            defaults={
                "evenement": evenement,
                "file_name": item.file_name,
                "stored_path": item.stored_path,
                "attachment_type": item.attachment_type,
                "mime_type": item.mime_type,
                "size": item.size,
                "sha256": item.sha256,
                "hubee_status": AttachmentStatus.RECEIVED,
                "state": AttachmentState.STORED,
            },
        )
        ids.append(piece.pk)
    transaction.on_commit(lambda: antivirus.request_scan(ids))
