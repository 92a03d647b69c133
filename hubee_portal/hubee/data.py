"""Plain data shapes and pure helpers of the HubEE protocol (no HTTP here)."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

MAX_AUTHOR_CHARS = 255
MAX_TEXT_CHARS = 1000


def is_uuid(value: object) -> TypeGuard[str]:
    """True for a canonical 8-4-4-4-12 UUID string (what HubEE accepts in paths)."""
    return isinstance(value, str) and bool(_UUID_RE.match(value))


def require_uuid(value: str | uuid.UUID, name: str) -> str:
    """Return the id as a string, or raise ValueError before any HTTP call is made."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not is_uuid(value):
        raise ValueError(f"{name} must be a UUID, got {value!r}")
    return value


def _paris() -> tzinfo:
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # no tz database on this host
        return UTC


def parse_hubee_datetime(value: object) -> datetime | None:
    """Parse a HubEE ISO-8601 date-time into an aware UTC datetime; None if absent or invalid.

    Offsets of any form are honoured ('Z', '+00:00', '+0200'); a value without offset is read as
    Europe/Paris local time, which is what HubEE's functional spec says it used.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=_paris())
    return parsed.astimezone(UTC)


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None


@dataclass(frozen=True)
class Notification:
    """One item of `GET /notifications`. `raw` keeps the whole item as received."""

    id: str
    process_code: str | None
    case_id: str | None
    event_id: str | None
    event_action_type: str | None
    event_status: str | None
    date_time: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_new_case(self) -> bool:
        """eventId null: a new (or re-sent) case rather than an event on a known case."""
        return self.event_id is None

    @classmethod
    def from_api(cls, item: object) -> Notification:
        """Build from one API item; ValueError when it cannot be used at all (no valid id)."""
        if not isinstance(item, dict):
            raise ValueError(f"notification is a {type(item).__name__}, not an object")
        notification_id = item.get("id")
        if not is_uuid(notification_id):
            raise ValueError("notification has no valid id")
        # eventDetails gives eventActionType; accept actionType too (sources disagree).
        action_type = item.get("eventActionType")
        if action_type in (None, ""):
            action_type = item.get("actionType")
        return cls(
            id=notification_id,
            process_code=_opt_str(item.get("processCode")),
            case_id=_opt_str(item.get("caseId")),
            event_id=_opt_str(item.get("eventId")),
            event_action_type=_opt_str(action_type),
            event_status=_opt_str(item.get("eventStatus")),
            date_time=parse_hubee_datetime(item.get("dateTime")),
            raw=item,
        )


class NotificationList(list[Notification]):
    """The usable notifications of one listing; `skipped`: items of HubEE's answer that could
    not be used at all (no valid id), which the caller must count as failures."""

    skipped: int = 0


@dataclass(frozen=True)
class DownloadResult:
    """What was written to the file object, once size and digest were checked."""

    size: int
    sha256_hex: str
    digest_checked: bool

    @property
    def sha256_b64(self) -> str:
        """The digest as HubEE writes it (plain base64 of the 32 raw bytes)."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode("ascii")
