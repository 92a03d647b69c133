"""Typed HubEE payloads (OpenAPI api_folder v1.2.7, components Case, Event, Attachment…).

`from_api` reads HubEE's JSON as `Notification.from_api` does: a field the OpenAPI file
requires (and does not allow to be null) raises InvalidPayloadError naming it; nullable and
optional fields default to None or an empty tuple; unknown keys are ignored and kept, with
the rest, in `raw` (the JSON as received). Lengths are not checked here: the portal's column
sizes are the mapping's business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .data import MAX_AUTHOR_CHARS, MAX_TEXT_CHARS, is_uuid, parse_hubee_datetime
from .errors import InvalidPayloadError
from .vocabulary import ActionType

logger = logging.getLogger(__name__)


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidPayloadError(f"HubEE {where or 'payload'} is not an object", field=where)
    return value


def _path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _required(data: Mapping[str, Any], key: str, prefix: str) -> Any:
    value = data.get(key)
    if value is None:
        raise InvalidPayloadError(
            f"HubEE payload without {_path(prefix, key)}", field=_path(prefix, key)
        )
    return value


def _required_str(data: Mapping[str, Any], key: str, prefix: str, *, blank: bool = True) -> str:
    value = _required(data, key, prefix)
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise InvalidPayloadError(
            f"HubEE payload with an invalid {_path(prefix, key)}", field=_path(prefix, key)
        )
    return value


def _required_uuid(data: Mapping[str, Any], key: str, prefix: str) -> str:
    value = _required(data, key, prefix)
    if not is_uuid(value):
        raise InvalidPayloadError(
            f"HubEE payload with an invalid {_path(prefix, key)}", field=_path(prefix, key)
        )
    return value


def _required_datetime(data: Mapping[str, Any], key: str, prefix: str) -> datetime:
    parsed = parse_hubee_datetime(_required(data, key, prefix))
    if parsed is None:
        raise InvalidPayloadError(
            f"HubEE payload with an invalid {_path(prefix, key)}", field=_path(prefix, key)
        )
    return parsed


def _nullable_str(value: object) -> str | None:
    # Today's ingestion reads these with `str(value or "")`: any non-null value is text.
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _nullable_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _items(data: Mapping[str, Any], key: str, prefix: str) -> list[tuple[str, Any]]:
    """The items of an optional array with their field path; null or absent is empty."""
    value = data.get(key)
    if value is None:
        return []
    where = _path(prefix, key)
    if not isinstance(value, list):
        raise InvalidPayloadError(f"HubEE {where} is not an array", field=where)
    return [(f"{where}[{index}]", item) for index, item in enumerate(value)]


def _date_to_api(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Organization:
    """OrganizationIdentifier: the recipient of a case, the transmitter of an event."""

    type: str
    company_register: str
    branch_code: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, item: object, where: str = "") -> Organization:
        data = _object(item, where)
        return cls(
            type=_required_str(data, "type", where),
            company_register=_required_str(data, "companyRegister", where),
            branch_code=_required_str(data, "branchCode", where),
            raw=data,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "companyRegister": self.company_register,
            "branchCode": self.branch_code,
        }


@dataclass(frozen=True)
class PartnerInfo:
    """The software that wrote an event (every field nullable)."""

    editor_name: str | None
    application_name: str | None
    software_version: str | None

    @classmethod
    def from_api(cls, item: object) -> PartnerInfo | None:
        if not isinstance(item, Mapping):
            return None
        return cls(
            editor_name=_nullable_str(item.get("editorName")),
            application_name=_nullable_str(item.get("applicationName")),
            software_version=_nullable_str(item.get("softwareVersion")),
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "editorName": self.editor_name,
            "applicationName": self.application_name,
            "softwareVersion": self.software_version,
        }


@dataclass(frozen=True)
class Applicant:
    first_name: str
    last_name: str
    email: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, item: object, where: str = "applicant") -> Applicant | None:
        """None when the case has no applicant (absent or null), as tolerated today."""
        if item is None:
            return None
        data = _object(item, where)
        return cls(
            first_name=_required_str(data, "firstName", where),
            last_name=_required_str(data, "lastName", where),
            email=_nullable_str(data.get("email")),
            raw=data,
        )

    def to_api(self) -> dict[str, Any]:
        return {"firstName": self.first_name, "lastName": self.last_name, "email": self.email}


@dataclass(frozen=True)
class Attachment:
    """A file of a case or an event. `status` is HubEE's, upper-cased (see AttachmentStatus;
    an unknown value is kept as is)."""

    id: str  # lower-cased, as the portal stores it
    status: str
    file_name: str
    type: str
    size: int
    mime_type: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, item: object, where: str = "") -> Attachment:
        data = _object(item, where)
        # Checked in the OpenAPI file's order, so the first missing field is the one named.
        attachment_id = _required_uuid(data, "id", where).lower()
        file_name = _required_str(data, "fileName", where)
        attachment_type = _required_str(data, "type", where)
        size = _required(data, "size", where)
        if isinstance(size, bool) or not isinstance(size, int):
            raise InvalidPayloadError(
                f"HubEE payload with an invalid {_path(where, 'size')}", field=_path(where, "size")
            )
        return cls(
            id=attachment_id,
            status=_required_str(data, "status", where).upper(),
            file_name=file_name,
            type=attachment_type,
            size=size,
            mime_type=_required_str(data, "mimeType", where),
            raw=data,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "fileName": self.file_name,
            "type": self.type,
            "size": self.size,
            "mimeType": self.mime_type,
        }


@dataclass(frozen=True)
class Event:
    """An event of a case. `action_type`, `status` and the case statuses are HubEE's raw
    values (see ActionType, EventStatus, CaseStatus)."""

    id: str
    transmitter: Organization
    status: str
    action_type: str | None
    notification: bool | None
    create_date_time: datetime | None
    update_date_time: datetime | None
    message: str | None = None
    comment: str | None = None
    author: str | None = None
    case_current_status: str | None = None
    case_new_status: str | None = None
    partner_attributes: str | None = None
    attachments: tuple[Attachment, ...] = ()
    partner_info: PartnerInfo | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, item: object, where: str = "") -> Event:
        data = _object(item, where or "event")
        return cls(
            id=_required_uuid(data, "id", where),
            transmitter=Organization.from_api(
                _required(data, "transmitter", where), _path(where, "transmitter")
            ),
            status=_required_str(data, "status", where),
            # Required by the schema, but nullable: absent reads as null.
            action_type=_nullable_str(data.get("actionType")),
            notification=_nullable_bool(data.get("notification")),
            create_date_time=parse_hubee_datetime(data.get("createDateTime")),
            update_date_time=parse_hubee_datetime(data.get("updateDateTime")),
            message=_nullable_str(data.get("message")),
            comment=_nullable_str(data.get("comment")),
            author=_nullable_str(data.get("author")),
            case_current_status=_nullable_str(data.get("caseCurrentStatus")),
            case_new_status=_nullable_str(data.get("caseNewStatus")),
            partner_attributes=_nullable_str(data.get("partnerAttributes")),
            attachments=tuple(
                Attachment.from_api(attachment, path)
                for path, attachment in _items(data, "attachments", where)
            ),
            partner_info=PartnerInfo.from_api(data.get("partnerInfo")),
            raw=data,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "transmitter": self.transmitter.to_api(),
            "status": self.status,
            "actionType": self.action_type,
            "notification": self.notification,
            "createDateTime": _date_to_api(self.create_date_time),
            "updateDateTime": _date_to_api(self.update_date_time),
            "message": self.message,
            "comment": self.comment,
            "author": self.author,
            "caseCurrentStatus": self.case_current_status,
            "caseNewStatus": self.case_new_status,
            "partnerAttributes": self.partner_attributes,
            "attachments": [attachment.to_api() for attachment in self.attachments],
            "partnerInfo": None if self.partner_info is None else self.partner_info.to_api(),
        }


@dataclass(frozen=True)
class Case:
    """A case (one recipient's part of a télédossier). `status` is HubEE's raw value: an
    unknown one is kept, for the mapping to ignore."""

    id: str
    status: str
    recipient: Organization
    external_id: str
    process_code: str
    create_date_time: datetime
    update_date_time: datetime | None = None
    transmission_date_time: datetime | None = None
    close_date_time: datetime | None = None
    partner_attributes: str | None = None
    applicant: Applicant | None = None
    attachments: tuple[Attachment, ...] = ()
    events: tuple[Event, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, item: object) -> Case:
        data = _object(item, "case")
        return cls(
            id=_required_uuid(data, "id", ""),
            status=_required_str(data, "status", ""),
            recipient=Organization.from_api(_required(data, "recipient", ""), "recipient"),
            # A blank one too: it names the dossier's folder (today's rule).
            external_id=_required_str(data, "externalId", "", blank=False).strip(),
            process_code=_required_str(data, "processCode", ""),
            create_date_time=_required_datetime(data, "createDateTime", ""),
            update_date_time=parse_hubee_datetime(data.get("updateDateTime")),
            transmission_date_time=parse_hubee_datetime(data.get("transmissionDateTime")),
            close_date_time=parse_hubee_datetime(data.get("closeDateTime")),
            partner_attributes=_nullable_str(data.get("partnerAttributes")),
            applicant=Applicant.from_api(data.get("applicant")),
            attachments=tuple(
                Attachment.from_api(attachment, path)
                for path, attachment in _items(data, "attachments", "")
            ),
            events=tuple(Event.from_api(event, path) for path, event in _items(data, "events", "")),
            raw=data,
        )

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "recipient": self.recipient.to_api(),
            "externalId": self.external_id,
            "processCode": self.process_code,
            "createDateTime": _date_to_api(self.create_date_time),
            "updateDateTime": _date_to_api(self.update_date_time),
            "transmissionDateTime": _date_to_api(self.transmission_date_time),
            "closeDateTime": _date_to_api(self.close_date_time),
            "partnerAttributes": self.partner_attributes,
        }
        if self.applicant is not None:
            data["applicant"] = self.applicant.to_api()
        data["attachments"] = [attachment.to_api() for attachment in self.attachments]
        data["events"] = [event.to_api() for event in self.events]
        return data

    def without_events(self) -> dict[str, Any]:
        """The case as received, without its events (they are stored as rows)."""
        return {key: value for key, value in self.raw.items() if key != "events"}


@dataclass(frozen=True)
class AttachmentDraft:
    """A file announced by an event we create (its bytes are uploaded afterwards)."""

    file_name: str
    type: str
    size: int
    mime_type: str

    def to_api(self) -> dict[str, Any]:
        return {
            "fileName": self.file_name,
            "type": self.type,
            "size": self.size,
            "mimeType": self.mime_type,
        }


@dataclass(frozen=True)
class EventDraft:
    """The body of `POST /cases/{caseId}/events` (the Event without its read-only fields)."""

    action_type: str
    author: str | None = None
    notification: bool = True
    case_new_status: str | None = None
    case_current_status: str | None = None
    message: str | None = None
    comment: str | None = None
    partner_attributes: str | None = None
    attachments: tuple[AttachmentDraft, ...] = ()

    @classmethod
    def status_update(
        cls,
        new_status: str,
        *,
        author: str,
        message: str | None = None,
        comment: str | None = None,
        current_status: str | None = None,
        notification: bool = True,
    ) -> EventDraft:
        """A STATUS_UPDATE event moving the case to new_status; ValueError before any call
        when HubEE would refuse it."""
        if not isinstance(new_status, str) or not new_status.strip():
            raise ValueError("new_status must be a non-empty string")
        if not isinstance(author, str) or not author.strip():
            raise ValueError("author must be a non-empty string")
        if len(author) > MAX_AUTHOR_CHARS:
            raise ValueError(f"author exceeds {MAX_AUTHOR_CHARS} characters")
        for name, text in (("message", message), ("comment", comment)):
            if text is not None and len(text) > MAX_TEXT_CHARS:
                raise ValueError(f"{name} exceeds {MAX_TEXT_CHARS} characters")
        return cls(
            action_type=ActionType.STATUS_UPDATE,
            author=author,
            notification=notification,
            case_new_status=new_status,
            case_current_status=current_status,
            message=message,
            comment=comment,
        )

    def to_api(self) -> dict[str, Any]:
        """The JSON body: None fields are left out; a deposit always lists its files."""
        data: dict[str, Any] = {"actionType": str(self.action_type)}
        if self.author is not None:
            data["author"] = self.author
        data["notification"] = self.notification
        for key, value in (
            ("caseNewStatus", self.case_new_status),
            ("caseCurrentStatus", self.case_current_status),
            ("message", self.message),
            ("comment", self.comment),
            ("partnerAttributes", self.partner_attributes),
        ):
            if value is not None:
                data[key] = str(value)
        if self.attachments or self.action_type == ActionType.ATTACH_DEPOSIT:
            data["attachments"] = [attachment.to_api() for attachment in self.attachments]
        return data


def _blank_to_none(value: str | None) -> str | None:
    return None if value in (None, "") else value


def is_same_event(event: Event, draft: EventDraft, application_name: str) -> bool:
    """Whether a case event looks like the one `draft` creates, as HubEE would store it.

    Same actionType, caseNewStatus, message and author (None and "" are equal); when the event
    names the application that created it, it must be ours.
    """
    if event.action_type != draft.action_type:
        return False
    for mine, theirs in (
        (draft.case_new_status, event.case_new_status),
        (draft.message, event.message),
        (draft.author, event.author),
    ):
        if _blank_to_none(mine) != _blank_to_none(theirs):
            return False
    application = event.partner_info.application_name if event.partner_info else None
    if application not in (None, ""):
        return application == application_name
    return True


def find_matching_event(
    events: Iterable[Event],
    draft: EventDraft,
    application_name: str,
    known_event_ids: Iterable[str] = (),
) -> Event | None:
    """The event of `events` that `draft` created, ignoring `known_event_ids` (those that
    existed before); the latest one if several match, None if none does."""
    known = {str(event_id).lower() for event_id in known_event_ids}
    candidates = [
        event
        for event in events
        if event.id.lower() not in known and is_same_event(event, draft, application_name)
    ]
    if not candidates:
        return None
    if len(candidates) > 1:
        logger.warning("%d unknown events match ours, taking the latest", len(candidates))
    oldest = datetime.min.replace(tzinfo=UTC)
    return max(candidates, key=lambda e: e.create_date_time or oldest)
