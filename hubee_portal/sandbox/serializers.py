"""HubEE JSON shapes (API.md §4) of the sandbox's objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .enums import Party
from .models import Attachment, Case, Event, Notification


def date_time(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with milliseconds, as HubEE writes it (`2024-07-04T08:54:15.438+00:00`)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


# When the sender named no software. SW declares partnerInfo `nullable` beside an `allOf`, which
# OpenAPI 3.0.3 reads as "never null" (nullable only acts with a `type` in the same schema):
# an object of nulls is valid under either reading; a bare null is not.
NO_PARTNER_INFO: dict[str, None] = {
    "editorName": None,
    "applicationName": None,
    "softwareVersion": None,
}


def _nullable(value: str) -> str | None:
    # Stored as "" (no NULL strings in the database); HubEE answers null.
    return value or None


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.id),
        "status": attachment.status,
        "fileName": attachment.file_name,
        "type": attachment.type,
        "size": attachment.size,
        "mimeType": attachment.mime_type,
    }


def event_json(event: Event) -> dict[str, Any]:
    subscription = event.case.subscription
    return {
        "id": str(event.id),
        "transmitter": subscription.organization(event.transmitter_type),
        "message": _nullable(event.message),
        "comment": _nullable(event.comment),
        "actionType": event.action_type,
        "author": _nullable(event.author),
        "notification": event.notification,
        "createDateTime": date_time(event.create_date_time),
        "updateDateTime": date_time(event.update_date_time),
        "status": event.status,
        "caseCurrentStatus": _nullable(event.case_current_status),
        "caseNewStatus": _nullable(event.case_new_status),
        "partnerAttributes": _nullable(event.partner_attributes),
        "attachments": [attachment_json(a) for a in event.attachments.all()],
        "partnerInfo": event.partner_info or dict(NO_PARTNER_INFO),
    }


def case_json(case: Case, *, lite: bool = False) -> dict[str, Any]:
    """The Case of GET /cases/{id}; `lite` leaves the events out (what `lite` drops is a GUESS)."""
    subscription = case.subscription
    data: dict[str, Any] = {
        "id": str(case.id),
        "status": case.status,
        "recipient": subscription.organization(Party.SI),
        "externalId": case.external_id,
        "updateDateTime": date_time(case.update_date_time),
        "transmissionDateTime": date_time(case.transmission_date_time),
        "processCode": subscription.process_code,
        "createDateTime": date_time(case.create_date_time),
        "closeDateTime": date_time(case.close_date_time),
        "partnerAttributes": _nullable(case.partner_attributes),
        "applicant": {
            "firstName": case.applicant_first_name,
            "lastName": case.applicant_last_name,
            "email": _nullable(case.applicant_email),
        },
        "attachments": [attachment_json(a) for a in case.attachments.all()],
    }
    if not lite:
        events = case.events.select_related("case__subscription").prefetch_related("attachments")
        data["events"] = [event_json(e) for e in events]
    return data


def notification_json(notification: Notification, *, event_details: bool) -> dict[str, Any]:
    subscription = notification.subscription
    recipient = Party(notification.recipient_type)
    data: dict[str, Any] = {
        "id": str(notification.id),
        "recipient": subscription.organization(recipient),
        "transmitter": subscription.organization(recipient.other),
        "processCode": subscription.process_code,
        "caseId": str(notification.case_id),
        "eventId": str(notification.event_id) if notification.event_id else None,
        "dateTime": date_time(notification.created_at),
    }
    if event_details:
        # Live values of the event (API.md §4.2 GUESS: the official script relies on it).
        event = notification.event
        data["eventActionType"] = event.action_type if event else None
        data["eventStatus"] = event.status if event else None
    return data
