"""Events we send to HubEE. Each is a row first (outbox), then a POST that is never repeated:
before sending, the case's events are searched for ours (a crash may have come between HubEE
accepting it and our commit).

A document return (ATTACH_DEPOSIT, API.md §5.6 and §9) takes three steps: POST the event with
the files' metadata, PUT each file, PATCH the event SENT. The event id is committed as soon as
HubEE gives it, so a rerun resumes the same event (uploads and the PATCH are idempotent) and
never creates a second one."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dossiers.enums import AttachmentState, Direction, OutgoingState
from dossiers.models import Dossier, Evenement, OutgoingAttachment, OutgoingEvent, PieceJointe
from dossiers.records import storage
from hubee_portal import APPLICATION_NAME
from hubee_portal.hubee import (
    HubEEClient,
    HubEEError,
    PermanentError,
    TransientError,
    find_matching_event,
    is_uuid,
    parse_hubee_datetime,
)
from hubee_portal.hubee.vocabulary import ActionType, AttachmentStatus, EventStatus, moves_forward

logger = logging.getLogger(__name__)

AUTOMATIC_AUTHOR = f"{APPLICATION_NAME} (automatique)"
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


def _before_post(outgoing: OutgoingEvent) -> None:
    check_unfinished_attempt(outgoing)
    outgoing.begin_post(timezone.now(), UNFINISHED_ATTEMPT)


def queue_automatic_statuses(dossier: Dossier) -> list[OutgoingEvent]:
    """Queue the démarche's automatic status then its automatic final status, if any."""
    demarche = dossier.demarche
    queued = []
    for status in (demarche.automatic_status, demarche.automatic_final_status):
        if status:
            queued.append(
                OutgoingEvent.objects.create(
                    dossier=dossier,
                    action_type=ActionType.STATUS_UPDATE,
                    case_new_status=status,
                    author=AUTOMATIC_AUTHOR,
                    automatic=True,
                )
            )
    return queued


def payload_for(
    outgoing: OutgoingEvent, files: list[OutgoingAttachment] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "actionType": outgoing.action_type,
        "author": outgoing.author,
        "notification": True,
    }
    if outgoing.case_new_status:
        payload["caseNewStatus"] = outgoing.case_new_status
    if outgoing.message:
        payload["message"] = outgoing.message
    if outgoing.action_type == ActionType.ATTACH_DEPOSIT:
        if files is None:
            files = list(outgoing.attachments.order_by("position"))
        payload["attachments"] = [
            {
                "fileName": f.file_name,
                "type": f.attachment_type,
                "size": f.size,
                "mimeType": f.mime_type,
            }
            for f in files
        ]
    return payload


def send_pending(client: HubEEClient, dossier: Dossier, case_events: list[dict[str, Any]]) -> None:
    """Send the dossier's pending events in order. `case_events` is the case as just read."""
    pending = list(OutgoingEvent.objects.filter(dossier=dossier, state=OutgoingState.PENDING))
    if not pending:
        return
    known = _claimed_event_ids(dossier, case_events)
    for outgoing in pending:
        if outgoing.action_type == ActionType.ATTACH_DEPOSIT:
            event = send_deposit(client, dossier, outgoing, case_events, known)
            if event is not None:
                _record_or_fail(dossier, outgoing, event)
                known.add(str(event["id"]).lower())
            continue
        payload = payload_for(outgoing)
        # Already on HubEE? (a crash came between HubEE accepting it and our commit)
        event = find_matching_event(case_events, payload, client.config.application_name, known)
        if event is not None:
            logger.info("outgoing %s already on HubEE as event %s", outgoing.pk, event.get("id"))
        else:
            dossier.refresh_from_db(fields=["status"])
            if outgoing.case_new_status and not moves_forward(
                dossier.status, outgoing.case_new_status
            ):
                skip(dossier, outgoing)
                continue
            _before_post(outgoing)
            try:
                event = client.create_event(
                    str(dossier.hubee_case_id), payload, known_event_ids=known
                )
            except PermanentError as exc:
                _fail(outgoing, str(exc))
                continue
            except Exception as exc:
                _after_post_error(outgoing, exc)
                raise
        _record_or_fail(dossier, outgoing, event)
        known.add(str(event["id"]).lower())


def _claimed_event_ids(dossier: Dossier, case_events: list[dict[str, Any]]) -> set[str]:
    """Event ids never to take for one of this dossier's pushes: its events, those other rows
    of the outbox already claimed (a deposit in progress), and any event of the case as read
    that another dossier holds (a connection answering another démarche's ids)."""
    on_case = [
        str(event["id"]).lower()
        for event in case_events
        if isinstance(event, dict) and is_uuid(event.get("id"))
    ]
    mine_or_on_case = Q(dossier=dossier) | Q(hubee_event_id__in=on_case)
    known = {
        str(event_id)
        for event_id in Evenement.objects.filter(mine_or_on_case).values_list(
            "hubee_event_id", flat=True
        )
    }
    known.update(
        str(event_id)
        for event_id in OutgoingEvent.objects.filter(
            mine_or_on_case, hubee_event_id__isnull=False
        ).values_list("hubee_event_id", flat=True)
    )
    return known


def _record_or_fail(dossier: Dossier, outgoing: OutgoingEvent, event: dict[str, Any]) -> None:
    try:
        record_sent(dossier, outgoing, event)
    except ForeignEventError:
        logger.warning(
            "outgoing %s: HubEE answered event %s of another dossier", outgoing.pk, event["id"]
        )
        _fail(outgoing, FOREIGN_EVENT)


def send_deposit(
    client: HubEEClient,
    dossier: Dossier,
    outgoing: OutgoingEvent,
    case_events: list[dict[str, Any]],
    known: set[str],
) -> dict[str, Any] | None:
    """Create (or resume) our ATTACH_DEPOSIT, upload its files, publish it. Returns the event
    once HubEE has it SENT; None when HubEE refused it for good (the row is then failed)."""
    files = list(outgoing.attachments.order_by("position"))
    case_id = str(dossier.hubee_case_id)
    payload = payload_for(outgoing, files)
    event = None
    if outgoing.hubee_event_id:
        event = _event_with_id(case_events, str(outgoing.hubee_event_id))
        if event is None:
            # Not on the case just read: HubEE dropped our unfinished deposit. Start again.
            logger.warning("outgoing %s: deposit gone from HubEE, creating it again", outgoing.pk)
            _forget_remote_ids(outgoing, files)
    if event is None:
        event = _find_deposit(case_events, payload, client.config.application_name, known)
        if event is not None:
            logger.info("outgoing %s already on HubEE as event %s", outgoing.pk, event.get("id"))
    if event is None:
        _before_post(outgoing)
        try:
            event = client.create_event(case_id, payload, known_event_ids=known)
        except PermanentError as exc:
            _fail(outgoing, str(exc))
            return None
        except Exception as exc:
            _after_post_error(outgoing, exc)
            raise
    event_id = str(event["id"])
    if not _remember_remote_ids(outgoing, files, event):
        _cancel_deposit(client, case_id, event_id, outgoing, files)
        _fail(outgoing, "HubEE a créé le dépôt sans y inscrire toutes ses pièces.")
        return None
    if str(event.get("status") or "").upper() in (EventStatus.SENT, EventStatus.RECEIVED):
        return event
    remote = {
        str(item.get("id")).lower(): item
        for item in event.get("attachments") or []
        if isinstance(item, dict)
    }
    root = Path(dossier.demarche.download_folder)
    try:
        for item in files:
            uploaded = remote.get(str(item.hubee_attachment_id).lower())
            if uploaded and str(uploaded.get("status") or "").upper() == AttachmentStatus.RECEIVED:
                continue
            path = storage.resolve_inside(root, item.stored_path)
            with open(path, "rb") as handle:
                client.upload_event_attachment(
                    case_id,
                    event_id,
                    str(item.hubee_attachment_id),
                    handle,
                    item.size,
                    base64.b64encode(bytes.fromhex(item.sha256)).decode("ascii"),
                )
            item.uploaded_at = timezone.now()
            item.save(update_fields=["uploaded_at", "updated_at"])
        client.patch_event(case_id, event_id, EventStatus.SENT)
    except PermanentError as exc:
        # Refused (size, format…): withdraw the unfinished deposit so a retry starts clean.
        _cancel_deposit(client, case_id, event_id, outgoing, files)
        _fail(outgoing, str(exc))
        return None
    except (OSError, storage.UnsafePathError) as exc:
        _cancel_deposit(client, case_id, event_id, outgoing, files)
        _fail(outgoing, f"Document introuvable ou illisible sur le serveur ({type(exc).__name__}).")
        return None
    except Exception as exc:
        outgoing.last_error = str(exc)
        outgoing.save(update_fields=["last_error", "updated_at"])
        raise
    return {**event, "status": EventStatus.SENT}


def _after_post_error(outgoing: OutgoingEvent, exc: Exception) -> None:
    """Record a failed POST. Unanswered (ambiguous), it may still land on HubEE: the mark stays,
    counted from now, and check_unfinished_attempt holds the next try until it cannot."""
    if getattr(exc, "ambiguous", False):
        outgoing.post_unanswered_since = timezone.now()
    else:
        outgoing.post_unanswered_since = None
        outgoing.last_error = str(exc)
    outgoing.save(update_fields=["last_error", "post_unanswered_since", "updated_at"])


def _event_with_id(events: list[dict[str, Any]], event_id: str) -> dict[str, Any] | None:
    for event in events:
        if isinstance(event, dict) and str(event.get("id", "")).lower() == event_id.lower():
            return event
    return None


def _files_key(attachments: Any) -> list[tuple[str, int]]:
    return sorted(
        (str(item.get("fileName")), item.get("size"))
        for item in attachments or []
        if isinstance(item, dict)
    )


def _find_deposit(
    case_events: list[dict[str, Any]],
    payload: dict[str, Any],
    application_name: str,
    known: set[str],
) -> dict[str, Any] | None:
    """Our deposit on the case: same metadata as find_matching_event checks, and same files."""
    wanted = _files_key(payload["attachments"])
    candidates = [
        event
        for event in case_events
        if isinstance(event, dict)
        and event.get("actionType") == ActionType.ATTACH_DEPOSIT
        and _files_key(event.get("attachments")) == wanted
    ]
    return find_matching_event(candidates, payload, application_name, known)


def _remember_remote_ids(
    outgoing: OutgoingEvent, files: list[OutgoingAttachment], event: dict[str, Any]
) -> bool:
    """Commit the event id and one HubEE attachment id per file, before any upload."""
    remote = [item for item in event.get("attachments") or [] if isinstance(item, dict)]
    used: set[int] = set()
    for item in files:
        match = next(
            (
                index
                for index, candidate in enumerate(remote)
                if index not in used
                and candidate.get("fileName") == item.file_name
                and candidate.get("size") == item.size
                and candidate.get("id")
            ),
            None,
        )
        if match is None:
            return False
        used.add(match)
        item.hubee_attachment_id = remote[match]["id"]
    with transaction.atomic():
        outgoing.hubee_event_id = event["id"]
        outgoing.last_error = ""  # the POST's outcome is known now
        outgoing.post_unanswered_since = None
        outgoing.save(
            update_fields=["hubee_event_id", "last_error", "post_unanswered_since", "updated_at"]
        )
        OutgoingAttachment.objects.bulk_update(files, ["hubee_attachment_id"])
    return True


def _forget_remote_ids(outgoing: OutgoingEvent, files: list[OutgoingAttachment]) -> None:
    with transaction.atomic():
        outgoing.hubee_event_id = None
        outgoing.save(update_fields=["hubee_event_id", "updated_at"])
        for item in files:
            item.hubee_attachment_id = None
            item.uploaded_at = None
        OutgoingAttachment.objects.bulk_update(files, ["hubee_attachment_id", "uploaded_at"])


def _cancel_deposit(
    client: HubEEClient,
    case_id: str,
    event_id: str,
    outgoing: OutgoingEvent,
    files: list[OutgoingAttachment],
) -> None:
    try:
        client.delete_event(case_id, event_id)
    except HubEEError:
        logger.warning("outgoing %s: unfinished deposit could not be withdrawn", outgoing.pk)
        return
    _forget_remote_ids(outgoing, files)


def _fail(outgoing: OutgoingEvent, error: str) -> None:
    outgoing.state = OutgoingState.FAILED
    outgoing.last_error = error
    outgoing.post_unanswered_since = None  # refused: nothing can still land
    outgoing.next_attempt_at = None
    outgoing.save(
        update_fields=[
            "state",
            "last_error",
            "post_unanswered_since",
            "next_attempt_at",
            "updated_at",
        ]
    )
    logger.warning("outgoing %s refused by HubEE", outgoing.pk)


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
    outgoing.next_attempt_at = None
    outgoing.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])


def record_sent(dossier: Dossier, outgoing: OutgoingEvent, event: dict[str, Any]) -> None:
    now = timezone.now()
    with transaction.atomic():
        outgoing.state = OutgoingState.SENT
        outgoing.hubee_event_id = event["id"]
        outgoing.sent_at = now
        outgoing.last_error = ""
        outgoing.post_unanswered_since = None
        outgoing.next_attempt_at = None
        outgoing.save()
        evenement = _store_sent_event(
            dossier,
            event["id"],
            {
                "action_type": outgoing.action_type,
                "direction": Direction.SENT,
                "message": outgoing.message,
                "author": outgoing.author,
                "case_current_status": str(event.get("caseCurrentStatus") or dossier.status)[:20],
                "case_new_status": outgoing.case_new_status,
                "hubee_status": str(event.get("status") or EventStatus.SENT)[:12],
                "hubee_created_at": parse_hubee_datetime(event.get("createDateTime")) or now,
                "raw": event,
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
    """The returned documents join the dossier's attachments (downloadable like the others)."""
    for item in outgoing.attachments.order_by("position"):
        PieceJointe.objects.update_or_create(
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
