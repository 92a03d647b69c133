"""The operator and the citizen acting on a case: documents, messages, closure,
acknowledgements. HubEE's rules (`workflow`) decide; a refusal becomes a `SandboxError`."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from .. import workflow
from ..enums import ActionType, AttachmentStatus, CaseStatus, EventStatus, Party
from ..models import Case, Event
from .deposits import FileSpec, create_attachments, discard, store_files
from .errors import SandboxError

OSL_AUTHOR = "Opérateur (bac à sable)"
CITIZEN_AUTHOR = "Usager (bac à sable)"


def _live(case: Case) -> Case:
    case = Case.objects.select_related("subscription").get(pk=case.pk)
    if case.purged:
        raise SandboxError("Ce télédossier a été purgé.")
    return case


def _osl_event(case: Case, data: workflow.EventInput) -> Event:
    try:
        return workflow.create_event(case, Party.OSL, data)
    except workflow.RuleError as error:
        raise SandboxError(_french(error.message)) from error


def _french(message: str) -> str:
    if message.startswith("Messages are not allowed"):
        return "Cette démarche n'autorise pas les messages."
    return f"HubEE refuserait cette action : {message}"


def osl_attach_deposit(
    case: Case,
    files: Sequence[FileSpec],
    *,
    author: str = CITIZEN_AUTHOR,
    message: str | None = None,
    notification: bool = True,
    case_new_status: str | None = None,
) -> Event:
    """Extra documents from the citizen: an ATTACH_DEPOSIT published at once (+ notification).

    `case_new_status` (e.g. HUBEE_NOTIFIED) answers an ADD_AWAITING, as HubEE's loop does.
    """
    case = _live(case)
    stored = store_files(files, AttachmentStatus.RECEIVED)
    try:
        with transaction.atomic():
            specs = [
                workflow.AttachmentSpec(s.file_name, s.type, s.mime_type, s.size) for s in stored
            ]
            event = _osl_event(
                case,
                workflow.EventInput(
                    action_type=ActionType.ATTACH_DEPOSIT,
                    notification=notification,
                    message=message,
                    author=author,
                    case_new_status=case_new_status,
                    attachments=specs,
                ),
            )
            # Replace the PENDING rows create_event made by the stored files.
            event.attachments.all().delete()
            create_attachments(stored, event=event)
            if all(s.status == AttachmentStatus.RECEIVED for s in stored):
                workflow.publish_deposit(event, Party.OSL)
            else:
                event.status = EventStatus.SENT
                event.save(update_fields=["status"])
                if notification:
                    workflow.notify(case, Party.SI, event)
    except BaseException:
        discard(stored)
        raise
    return event


def osl_message(
    case: Case, text: str, *, author: str = OSL_AUTHOR, notification: bool = True
) -> Event:
    """A SENDING_MESSAGE from the operator (refused if the démarche has no messages)."""
    if not text or not text.strip():
        raise SandboxError("Le message est vide.")
    with transaction.atomic():
        return _osl_event(
            _live(case),
            workflow.EventInput(
                action_type=ActionType.SENDING_MESSAGE,
                notification=notification,
                message=text,
                author=author,
            ),
        )


def osl_close(case: Case, *, author: str = OSL_AUTHOR, message: str | None = None) -> Event:
    """The operator closes the case: STATUS_UPDATE to CLOSED (+ SI notification)."""
    with transaction.atomic():
        case = _live(case)
        if case.status in workflow.LOCKED_STATUSES:
            raise SandboxError("Ce télédossier est déjà clos.")
        return _osl_event(
            case,
            workflow.EventInput(
                action_type=ActionType.STATUS_UPDATE,
                notification=True,
                message=message,
                author=author,
                case_new_status=CaseStatus.CLOSED,
            ),
        )


def osl_acknowledge(event: Event) -> None:
    """The operator marks an SI event RECEIVED; the SI is notified (eventStatus RECEIVED)."""
    with transaction.atomic():
        event = Event.objects.select_related("case__subscription").get(pk=event.pk)
        _live(event.case)
        try:
            workflow.acknowledge(event, Party.OSL)
        except workflow.RuleError as error:
            raise SandboxError(_french(error.message)) from error
