"""Filling the outbox: an agent's action (a pending row, with its files staged, then a delivery
requested from the worker, dossiers.tasks.send_outgoing) or the démarche's automatic statuses;
and the body each row is sent with."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django_q.tasks import async_task

from dossiers.enums import DECISIONS, AuditAction, OutgoingState, SendFailure
from dossiers.models import Dossier, OutgoingAttachment, OutgoingEvent
from dossiers.records import audit, storage
from dossiers.records.actions import (
    ABSENT,
    MAX_MESSAGE,
    Action,
    ActionNotAllowed,
    author_name,
    message_rule,
    refusal,
)
from hubee_portal import APPLICATION_NAME
from hubee_portal.hubee import AttachmentDraft, EventDraft
from hubee_portal.hubee.vocabulary import ActionType

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RETURN_FOLDER = ".hubee-envois"  # inside the démarche folder; received names never start with "."
AUTOMATIC_AUTHOR = f"{APPLICATION_NAME} (automatique)"


AUDIT_ACTIONS: dict[str, AuditAction] = {
    ActionType.STATUS_UPDATE: AuditAction.STATUS,
    ActionType.SENDING_MESSAGE: AuditAction.MESSAGE,
    ActionType.ATTACH_DEPOSIT: AuditAction.RETURN_DOCUMENTS,
}


def perform(
    dossier: Dossier,
    user: User,
    action: Action,
    *,
    message: str = "",
    files: list[UploadedFile] | None = None,
    attachment_type: str = "",
) -> OutgoingEvent:
    """Queue the action in the outbox and start sending it. Raises ActionNotAllowed when the
    rules, read again under the dossier's lock, refuse it now."""
    if message_rule(dossier, action) == ABSENT:
        message = ""
    message = message.strip()[:MAX_MESSAGE]
    staged: list[dict[str, Any]] = []
    if action.action_type == ActionType.ATTACH_DEPOSIT:
        staged = _stage_files(dossier, files or [])
    try:
        outgoing = _queue(dossier, user, action, message, staged, attachment_type)
    except BaseException:
        _unstage(dossier, staged)
        raise
    request_delivery(dossier.pk)
    return outgoing


def _queue(
    dossier: Dossier,
    user: User,
    action: Action,
    message: str,
    staged: list[dict[str, Any]],
    attachment_type: str,
) -> OutgoingEvent:
    with transaction.atomic():
        # The rules read again under the dossier's lock (SQLite: the IMMEDIATE transaction's
        # write lock), with the row inserted in the same transaction: two agents, or a bulk
        # action and a single one, cannot both queue a status push on what each read before.
        locked = Dossier.objects.select_for_update().select_related("demarche").get(pk=dossier.pk)
        reason = refusal(locked, action, OutgoingEvent.objects.filter(dossier=locked))
        if reason:
            raise ActionNotAllowed(reason)
        # Row and files in one commit: a sync never sees a deposit without its files.
        outgoing = OutgoingEvent.objects.create(
            dossier=dossier,
            action_type=action.action_type,
            case_new_status=action.new_status,
            message=message,
            author=author_name(user),
            created_by=user,
        )
        note_milestones(outgoing)
        for position, item in enumerate(staged, start=1):
            OutgoingAttachment.objects.create(
                outgoing=outgoing,
                position=position,
                attachment_type=attachment_type or "document",
                **item,
            )
        audit.record(
            user,
            AUDIT_ACTIONS[action.action_type],
            dossier=dossier,
            object_ref=f"envoi {outgoing.pk}",
            detail=action.new_status or action.action_type,
        )
    return outgoing


def retry(outgoing: OutgoingEvent, user: User) -> None:
    """A failed push goes back to the outbox (the outbox looks for it on HubEE first)."""
    updated = OutgoingEvent.objects.filter(pk=outgoing.pk, state=OutgoingState.FAILED).update(
        state=OutgoingState.PENDING,
        last_error="",
        failure=SendFailure.NONE,
        next_attempt_at=None,
        attempts=0,  # a full set of tries again, with their backoff
    )
    if not updated:
        return
    audit.record(
        user,
        AuditAction.RETRY,
        dossier=outgoing.dossier,
        object_ref=f"envoi {outgoing.pk}",
        detail=outgoing.case_new_status or outgoing.action_type,
    )
    request_delivery(outgoing.dossier_id)


def _unstage(dossier: Dossier, staged: list[dict[str, Any]]) -> None:
    root = Path(dossier.demarche.download_folder)
    for item in staged:
        path = storage.resolve_inside(root, item["stored_path"])
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def _stage_files(dossier: Dossier, files: list[UploadedFile]) -> list[dict[str, Any]]:
    """Write the uploaded files under the démarche folder (atomically), before any row."""
    root = Path(dossier.demarche.download_folder)
    batch = f"{RETURN_FOLDER}/{uuid.uuid4().hex}"
    folder = storage.resolve_inside(root, batch)
    staged: list[dict[str, Any]] = []
    try:
        _write_files(folder, batch, files, staged)
    except BaseException:
        _unstage(dossier, staged)
        raise
    return staged


def _write_files(
    folder: Path, batch: str, files: list[UploadedFile], staged: list[dict[str, Any]]
) -> None:
    taken: set[str] = set()
    for upload in files:
        name = storage.sanitize_component(upload.name, "document")
        name = storage.unique_name(folder, name, taken)
        taken.add(name)

        def write(handle: IO[bytes], upload: UploadedFile = upload) -> tuple[str, int]:
            digest, size = hashlib.sha256(), 0
            for chunk in upload.chunks():
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            return digest.hexdigest(), size

        sha256, size = storage.write_atomic(folder / name, write)
        staged.append(
            {
                "file_name": name,
                "mime_type": mimetypes.guess_type(name)[0]
                or upload.content_type
                or "application/octet-stream",
                "size": size,
                "sha256": sha256,
                "stored_path": f"{batch}/{name}",
            }
        )


def request_delivery(dossier_id: int) -> None:
    """Send the dossier's pending pushes in the background (inline when Q_CLUSTER sync); the
    task by name, so that the exchange never imports the tasks module."""
    async_task(
        "dossiers.tasks.send_outgoing",
        dossier_id,
        task_name=f"hubee-envoi-{dossier_id}",
        group="hubee_outbox",
    )


def queue_automatic_statuses(dossier: Dossier) -> list[OutgoingEvent]:
    """Queue the démarche's automatic status then its automatic final status, if any."""
    demarche = dossier.demarche
    queued = []
    for status in (demarche.automatic_status, demarche.automatic_final_status):
        if status:
            outgoing = OutgoingEvent.objects.create(
                dossier=dossier,
                action_type=ActionType.STATUS_UPDATE,
                case_new_status=status,
                author=AUTOMATIC_AUTHOR,
                automatic=True,
            )
            note_milestones(outgoing)
            queued.append(outgoing)
    return queued


def note_milestones(outgoing: OutgoingEvent) -> None:
    """Keep the dossier's `first_action_at` (an agent's first push) and `decided_at` (the first
    DONE or REFUSED requested, automatic or not), which decision it was and both delays from
    the reception, for the statistics."""
    rows = Dossier.objects.filter(pk=outgoing.dossier_id)
    # The dossier the push was created with: no query.
    delay = max(0, round((outgoing.created_at - outgoing.dossier.received_at).total_seconds()))
    if not outgoing.automatic:
        rows.filter(first_action_at__isnull=True).update(
            first_action_at=outgoing.created_at, first_action_delay=delay
        )
    if outgoing.case_new_status in DECISIONS:
        rows.filter(decided_at__isnull=True).update(
            decided_at=outgoing.created_at,
            decision=outgoing.case_new_status,
            decision_delay=delay,
        )


def draft_for(outgoing: OutgoingEvent, files: list[OutgoingAttachment] | None = None) -> EventDraft:
    """The event the row is sent as (a deposit announces its files, in their order)."""
    attachments: tuple[AttachmentDraft, ...] = ()
    if outgoing.action_type == ActionType.ATTACH_DEPOSIT:
        if files is None:
            files = list(outgoing.attachments.order_by("position"))
        attachments = tuple(
            AttachmentDraft(f.file_name, f.attachment_type, f.size, f.mime_type) for f in files
        )
    return EventDraft(
        action_type=outgoing.action_type,
        author=outgoing.author,
        case_new_status=outgoing.case_new_status or None,
        message=outgoing.message or None,
        attachments=attachments,
    )
