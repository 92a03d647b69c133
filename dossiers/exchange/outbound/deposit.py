"""A document return (ATTACH_DEPOSIT, API.md §5.6 and §9) takes three steps: POST the event with
the files' metadata, PUT each file, PATCH the event SENT. The event id is committed as soon as
HubEE gives it, so a rerun resumes the same event (uploads and the PATCH are idempotent) and
never creates a second one."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from dossiers.enums import SendFailure
from dossiers.exchange.outbound import push
from dossiers.exchange.outbound.failures import classify
from dossiers.exchange.outbound.queue import draft_for
from dossiers.models import Dossier, OutgoingAttachment, OutgoingEvent
from dossiers.records import storage
from hubee_portal.hubee import (
    Attachment,
    AttachmentDraft,
    Event,
    EventDraft,
    HubEEClient,
    HubEEError,
    PermanentError,
    find_matching_event,
)
from hubee_portal.hubee.vocabulary import ActionType, AttachmentStatus, EventStatus

logger = logging.getLogger(__name__)


def send_deposit(
    client: HubEEClient,
    dossier: Dossier,
    outgoing: OutgoingEvent,
    case_events: Sequence[Event],
    known: set[str],
) -> Event | None:
    """Create (or resume) our ATTACH_DEPOSIT, upload its files, publish it. Returns the event
    once HubEE has it SENT; None when HubEE refused it for good (the row is then failed)."""
    files = list(outgoing.attachments.order_by("position"))
    case_id = str(dossier.hubee_case_id)
    draft = draft_for(outgoing, files)
    event = None
    if outgoing.hubee_event_id:
        event = _event_with_id(case_events, str(outgoing.hubee_event_id))
        if event is None:
            # Not on the case just read: HubEE dropped our unfinished deposit. Start again.
            logger.warning("outgoing %s: deposit gone from HubEE, creating it again", outgoing.pk)
            _forget_remote_ids(outgoing, files)
    if event is None:
        event = _find_deposit(case_events, draft, client.config.application_name, known)
        if event is not None:
            logger.info("outgoing %s already on HubEE as event %s", outgoing.pk, event.id)
    if event is None:
        push.before_post(outgoing)
        try:
            event = client.create_event(case_id, draft, known_event_ids=known)
        except PermanentError as exc:
            push.fail(outgoing, str(exc), classify(exc))
            return None
        except Exception as exc:
            push.after_post_error(outgoing, exc)
            raise
    event_id = event.id
    if not _remember_remote_ids(outgoing, files, event):
        _cancel_deposit(client, case_id, event_id, outgoing, files)
        push.fail(
            outgoing,
            "HubEE a créé le dépôt sans y inscrire toutes ses pièces.",
            SendFailure.INCOMPLETE,
        )
        return None
    if event.status.upper() in (EventStatus.SENT, EventStatus.RECEIVED):
        return event
    remote = {item.id: item for item in event.attachments}
    root = Path(dossier.demarche.download_folder)
    try:
        for item in files:
            uploaded = remote.get(str(item.hubee_attachment_id).lower())
            if uploaded and uploaded.status == AttachmentStatus.RECEIVED:
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
        push.fail(outgoing, str(exc), classify(exc))
        return None
    except (OSError, storage.UnsafePathError) as exc:
        _cancel_deposit(client, case_id, event_id, outgoing, files)
        push.fail(
            outgoing,
            f"Document introuvable ou illisible sur le serveur ({type(exc).__name__}).",
            SendFailure.FILE,
        )
        return None
    except Exception as exc:
        outgoing.last_error = str(exc)
        outgoing.failure = classify(exc)
        outgoing.save(update_fields=["last_error", "failure", "updated_at"])
        raise
    return replace(event, status=EventStatus.SENT, raw={**event.raw, "status": EventStatus.SENT})


def _event_with_id(events: Sequence[Event], event_id: str) -> Event | None:
    return next((event for event in events if event.id.lower() == event_id.lower()), None)


def _files_key(attachments: Sequence[Attachment | AttachmentDraft]) -> list[tuple[str, int]]:
    return sorted((item.file_name, item.size) for item in attachments)


def _find_deposit(
    case_events: Sequence[Event],
    draft: EventDraft,
    application_name: str,
    known: set[str],
) -> Event | None:
    """Our deposit on the case: same metadata as find_matching_event checks, and same files."""
    wanted = _files_key(draft.attachments)
    candidates = [
        event
        for event in case_events
        if event.action_type == ActionType.ATTACH_DEPOSIT
        and _files_key(event.attachments) == wanted
    ]
    return find_matching_event(candidates, draft, application_name, known)


def _remember_remote_ids(
    outgoing: OutgoingEvent, files: list[OutgoingAttachment], event: Event
) -> bool:
    """Commit the event id and one HubEE attachment id per file, before any upload."""
    remote = event.attachments
    used: set[int] = set()
    for item in files:
        match = next(
            (
                index
                for index, candidate in enumerate(remote)
                if index not in used
                and candidate.file_name == item.file_name
                and candidate.size == item.size
            ),
            None,
        )
        if match is None:
            return False
        used.add(match)
        item.hubee_attachment_id = remote[match].id
    with transaction.atomic():
        outgoing.hubee_event_id = event.id
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
