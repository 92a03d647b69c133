"""HubEE's rules on cases, events and notifications (API.md §6 and §9.2), for both parties.

The SI side (the API views) and the OSL side (services) both go through here, so the two
sides of a case cannot disagree. Errors carry English messages: they end up in API bodies.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone

from . import storage
from .enums import ActionType, AttachmentStatus, CaseStatus, EventStatus, Party
from .models import Attachment, Case, Event, Notification, StatusChange

# Simulator rule of API.md §6.2: an SI moves a case forward only.
STATUS_ORDER: dict[str, int] = {
    CaseStatus.HUBEE_RECEIVED: 0,
    CaseStatus.HUBEE_COMPLETED: 1,
    CaseStatus.HUBEE_NOTIFIED: 2,
    CaseStatus.SENT: 3,
    CaseStatus.SI_RECEIVED: 4,
    CaseStatus.IN_PROGRESS: 5,
    CaseStatus.ADD_AWAITING: 6,
    CaseStatus.REFUSED: 7,
    CaseStatus.DONE: 7,
}
SI_SETTABLE = frozenset(
    {
        CaseStatus.SENT,
        CaseStatus.SI_RECEIVED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.ADD_AWAITING,
        CaseStatus.REFUSED,
        CaseStatus.DONE,
        CaseStatus.SI_INTG_ERROR,
    }
)
LOCKED_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.ARCHIVED})
FINAL_FOR_SI = frozenset(
    {CaseStatus.REFUSED, CaseStatus.DONE, CaseStatus.SI_INTG_ERROR} | LOCKED_STATUSES
)
MAX_TEXT = 1000
MAX_AUTHOR = 255
MAX_PARTNER_ATTRIBUTES = 1024


class RuleError(Exception):
    """HubEE refuses the request (a business rule). `message` is the Error body's text."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


class ContractError(Exception):
    """The request does not match the contract (HubEE's gateway answers 400)."""

    def __init__(self, location: str, detail: str) -> None:
        self.location = location
        self.detail = detail
        super().__init__(f"@{location} {detail}")


@dataclass(frozen=True)
class AttachmentSpec:
    file_name: str
    type: str
    mime_type: str
    size: int


@dataclass
class EventInput:
    action_type: str
    notification: bool = True
    message: str | None = None
    comment: str | None = None
    author: str | None = None
    case_new_status: str | None = None
    case_current_status: str | None = None
    partner_attributes: str | None = None
    attachments: list[AttachmentSpec] = field(default_factory=list)


# -- contract checks of request bodies ---------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "integer" if isinstance(value, int) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong_type(pointer: str, value: Any, allowed: str) -> ContractError:
    return ContractError(
        "body",
        f"[Path '{pointer}'] Instance type ({_type_name(value)}) does not match any allowed "
        f"primitive type (allowed: [{allowed}])",
    )


def _missing(pointer: str, names: list[str]) -> ContractError:
    listed = ",".join(f'"{n}"' for n in names)
    return ContractError(
        "body", f"[Path '{pointer}'] Object has missing required properties ([{listed}])"
    )


def _string(data: dict[str, Any], key: str, limit: int, *, pointer: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(f"{pointer}/{key}", value, '"string"')
    if len(value) > limit:
        raise ContractError(
            "body",
            f"[Path '{pointer}/{key}'] String is too long (length: {len(value)}, "
            f"maximum allowed: {limit})",
        )
    return value


def require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _wrong_type("", data, '"object"')
    return data


def parse_status_body(data: Any) -> str:
    """`{"status": "..."}` of PATCH /cases/{id} and PATCH /events/{id}."""
    body = require_object(data)
    if "status" not in body:
        raise _missing("", ["status"])
    status = _string(body, "status", 50)
    if not status:
        raise RuleError("status is required")
    return status


def parse_event_payload(data: Any) -> EventInput:
    """The Event of POST /cases/{id}/events, checked like HubEE's contract does."""
    body = require_object(data)
    missing = [name for name in ("actionType", "notification") if name not in body]
    if missing:
        raise _missing("", missing)
    notification = body.get("notification")
    if notification is not None and not isinstance(notification, bool):
        raise _wrong_type("/notification", notification, '"boolean"')
    raw_attachments = body.get("attachments") or []
    if not isinstance(raw_attachments, list):
        raise _wrong_type("/attachments", raw_attachments, '"array"')
    attachments = [_parse_attachment(item, index) for index, item in enumerate(raw_attachments)]
    return EventInput(
        action_type=_string(body, "actionType", 100) or "",
        notification=bool(notification),
        message=_string(body, "message", MAX_TEXT) or None,
        comment=_string(body, "comment", MAX_TEXT) or None,
        author=_string(body, "author", MAX_AUTHOR),
        case_new_status=_string(body, "caseNewStatus", 15) or None,
        case_current_status=_string(body, "caseCurrentStatus", 15) or None,
        partner_attributes=_string(body, "partnerAttributes", MAX_PARTNER_ATTRIBUTES),
        attachments=attachments,
    )


def _parse_attachment(item: Any, index: int) -> AttachmentSpec:
    pointer = f"/attachments/{index}"
    if not isinstance(item, dict):
        raise _wrong_type(pointer, item, '"object"')
    missing = [n for n in ("fileName", "type", "size", "mimeType") if n not in item]
    if missing:
        raise _missing(pointer, missing)
    size = item["size"]
    if isinstance(size, bool) or not isinstance(size, int):
        raise _wrong_type(f"{pointer}/size", size, '"integer"')
    if size < 0:
        raise ContractError("body", f"[Path '{pointer}/size'] numeric instance is lower than 0")
    file_name = _string(item, "fileName", 255, pointer=pointer)
    kind = _string(item, "type", 100, pointer=pointer)
    mime_type = _string(item, "mimeType", 255, pointer=pointer)
    if not file_name or not kind or not mime_type:
        raise RuleError("Attachment fileName, type and mimeType are required")
    return AttachmentSpec(file_name=file_name, type=kind, mime_type=mime_type, size=size)


# -- statuses ----------------------------------------------------------------------------------


def check_si_status(case: Case, new_status: str) -> None:
    """Raise RuleError unless the SI may move `case` to `new_status` (API.md §6.2)."""
    if new_status not in CaseStatus.values:
        raise RuleError(f"Invalid case status {new_status}")
    if new_status not in SI_SETTABLE:
        raise RuleError(f"Status {new_status} cannot be set by a Service Instructeur")
    if case.status in LOCKED_STATUSES:
        raise RuleError(f"Case is {case.status}: its status can no longer change")
    if new_status == CaseStatus.ADD_AWAITING and not case.subscription.allows_add_awaiting:
        raise RuleError("Status ADD_AWAITING is not authorized for this process")
    if new_status == CaseStatus.SI_INTG_ERROR:
        if case.status in FINAL_FOR_SI:
            raise RuleError(f"Status transition {case.status} -> {new_status} is not allowed")
        return
    current = STATUS_ORDER.get(case.status)
    if current is None or STATUS_ORDER[new_status] <= current:
        raise RuleError(f"Status transition {case.status} -> {new_status} is not allowed")


def set_case_status(case: Case, new_status: str, now: datetime) -> None:
    case.status = new_status
    case.update_date_time = now
    if new_status == CaseStatus.CLOSED:
        case.close_date_time = now
    case.save(update_fields=["status", "update_date_time", "close_date_time"])
    StatusChange.objects.create(case=case, status=new_status, at=now)


# -- notifications and events -------------------------------------------------------------------


def notify(case: Case, recipient: Party, event: Event | None = None) -> Notification:
    last = Notification.objects.aggregate(last=Max("sequence"))["last"] or 0
    return Notification.objects.create(
        subscription=case.subscription,
        recipient_type=recipient,
        case=case,
        event=event,
        sequence=last + 1,
        created_at=timezone.now(),
    )


def _check_event(case: Case, transmitter: Party, data: EventInput) -> None:
    subscription = case.subscription
    if data.action_type not in ActionType.values:
        raise RuleError(f"Invalid actionType {data.action_type}")
    if data.action_type == ActionType.ATTACH_DEPOSIT:
        if not data.attachments:
            raise RuleError("An ATTACH_DEPOSIT event needs at least one attachment")
    elif data.attachments:
        raise RuleError("Attachments are only allowed on an ATTACH_DEPOSIT event")
    if data.message and not subscription.allows_messages:
        raise RuleError("Messages are not allowed for this process")
    if data.action_type == ActionType.SENDING_MESSAGE and not data.message:
        raise RuleError("A SENDING_MESSAGE event needs a message")
    if data.action_type == ActionType.STATUS_UPDATE and not data.case_new_status:
        raise RuleError("A STATUS_UPDATE event needs a caseNewStatus")
    if transmitter == Party.SI:
        if case.status in LOCKED_STATUSES:
            raise RuleError(f"Case is {case.status}: no further event is accepted")
        deposit = data.action_type == ActionType.ATTACH_DEPOSIT
        if deposit and not subscription.allows_document_return:
            raise RuleError(
                "Documents from the Service Instructeur are not allowed for this process"
            )
        if data.case_new_status:
            check_si_status(case, data.case_new_status)
    elif data.case_new_status and data.case_new_status not in CaseStatus.values:
        raise RuleError(f"Invalid case status {data.case_new_status}")


def create_event(
    case: Case,
    transmitter: Party,
    data: EventInput,
    *,
    partner_info: dict[str, str | None] | None = None,
) -> Event:
    """Record an event as HubEE does (call inside a transaction).

    ATTACH_DEPOSIT starts IN_PROGRESS with PENDING attachments and notifies nobody until its
    author publishes it; any other event is SENT at once and notifies the other party.
    """
    _check_event(case, transmitter, data)
    now = timezone.now()
    deposit = data.action_type == ActionType.ATTACH_DEPOSIT
    previous_status = case.status
    last = case.events.aggregate(last=Max("position"))["last"] or 0
    event = Event.objects.create(
        case=case,
        position=last + 1,
        transmitter_type=transmitter,
        action_type=data.action_type,
        message=data.message or "",
        comment=data.comment or "",
        author=data.author or "",
        status=EventStatus.IN_PROGRESS if deposit else EventStatus.SENT,
        # Filled by HubEE when absent (API.md §9.2 GUESS).
        case_current_status=data.case_current_status or previous_status,
        case_new_status=data.case_new_status or "",
        notification=data.notification,
        partner_attributes=data.partner_attributes or "",
        partner_info=partner_info,
        create_date_time=now,
    )
    for position, spec in enumerate(data.attachments, start=1):
        Attachment.objects.create(
            event=event,
            position=position,
            file_name=spec.file_name,
            type=spec.type,
            mime_type=spec.mime_type,
            size=spec.size,
            status=AttachmentStatus.PENDING,
        )
    if data.case_new_status and data.case_new_status != previous_status:
        set_case_status(case, data.case_new_status, now)
    if not deposit and event.notification:
        notify(case, transmitter.other, event)
    return event


def publish_deposit(event: Event, by: Party) -> None:
    """PATCH SENT by the author of an ATTACH_DEPOSIT whose files are all RECEIVED."""
    if event.transmitter != by:
        raise RuleError("Only the author of an event can send it")
    if event.status == EventStatus.SENT:
        return  # a replayed PATCH: already done
    if event.action_type != ActionType.ATTACH_DEPOSIT or event.status != EventStatus.IN_PROGRESS:
        raise RuleError(f"Event status {event.status} cannot be changed to SENT")
    waiting = event.attachments.exclude(status=AttachmentStatus.RECEIVED).count()
    if waiting:
        raise RuleError(f"{waiting} attachment(s) of the event are not RECEIVED")
    event.status = EventStatus.SENT
    event.update_date_time = timezone.now()
    event.save(update_fields=["status", "update_date_time"])
    if event.notification:
        notify(event.case, by.other, event)


def acknowledge(event: Event, by: Party) -> None:
    """PATCH RECEIVED by the recipient; the author is notified (if it asked for notifications)."""
    if event.transmitter == by:
        raise RuleError("Only the recipient of an event can acknowledge it")
    if event.status == EventStatus.RECEIVED:
        return  # a replayed PATCH: already done, no second notification
    if event.status != EventStatus.SENT:
        raise RuleError(f"Event status {event.status} cannot be changed to RECEIVED")
    event.status = EventStatus.RECEIVED
    event.update_date_time = timezone.now()
    event.save(update_fields=["status", "update_date_time"])
    if event.notification:
        notify(event.case, event.transmitter, event)


def delete_deposit(event: Event, by: Party) -> None:
    """DELETE of an ATTACH_DEPOSIT its author is still building."""
    if (
        event.transmitter != by
        or event.action_type != ActionType.ATTACH_DEPOSIT
        or event.status != EventStatus.IN_PROGRESS
    ):
        raise RuleError("Only an IN_PROGRESS ATTACH_DEPOSIT can be deleted, by its author")
    attachment_ids = list(event.attachments.values_list("id", flat=True))
    event.delete()
    for attachment_id in attachment_ids:
        storage.delete(attachment_id)


def receive_file(
    attachment: Attachment,
    read: Callable[[int], bytes],
    *,
    expected_sha256_b64: str | None = None,
) -> None:
    """Store an uploaded binary; RuleError (and the previous content kept) on a mismatch."""

    def check(size: int, sha256: str) -> None:
        if size != attachment.size:
            raise RuleError(f"File size {size} does not match the declared size {attachment.size}")
        if expected_sha256_b64 is not None:
            actual = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
            if actual != expected_sha256_b64:
                raise RuleError("File digest does not match the digest header")

    try:
        _size, sha256 = storage.store_stream(
            attachment.id, read, limit=attachment.size, check=check
        )
    except storage.TooLargeError as exc:
        raise RuleError(
            f"File size is greater than the declared size ({attachment.size} bytes)"
        ) from exc
    attachment.sha256 = sha256
    attachment.status = AttachmentStatus.RECEIVED
    attachment.save(update_fields=["sha256", "status"])
