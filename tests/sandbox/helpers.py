"""Shared helpers of the sandbox tests."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from hubee_portal.hubee import ActionType, EventDraft, HubEEClient, require_uuid
from hubee_portal.hubee.transport import JSON_ACCEPT

PDF = b"%PDF-1.4\n% sandbox test\n" + bytes(range(256)) * 40
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<demande><acte>naissance</acte></demande>\n'


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def etat_civil_files() -> list[tuple[str, str, str, bytes]]:
    return [
        ("ActeEtatCivil-PDF.pdf", "ActeEtatCivil-PDF", "application/pdf", PDF),
        ("ActeEtatCivil-XML.xml", "ActeEtatCivil-XML", "application/xml", XML),
    ]


def status_event(status: str, **extra: Any) -> EventDraft:
    """A STATUS_UPDATE to `status` by "Agent de test"; `extra` sets other EventDraft fields
    (message=, comment=, notification=, case_current_status=, partner_attributes=…).

    Built directly rather than with EventDraft.status_update, which refuses before any call
    some bodies (a too long message) that tests send to see HubEE refuse them.
    """
    fields: dict[str, Any] = {
        "action_type": ActionType.STATUS_UPDATE,
        "author": "Agent de test",
        "notification": True,
        "case_new_status": status,
    }
    return EventDraft(**(fields | extra))


def post_event_body(client: HubEEClient, case_id: str, body: Any) -> dict[str, Any]:
    """POST a raw JSON body to /cases/{case_id}/events as `client.create_event` sends its
    draft (same session, token, headers and single attempt), for the bodies an EventDraft
    cannot express; HubEE's refusal raises the client's error (BadRequestError…)."""
    case_id = require_uuid(case_id, "case_id")
    response = client._transport.attempt(
        client._transport.new_state(),
        "POST",
        f"/cases/{case_id}/events",
        json_body=body,
        headers=JSON_ACCEPT,
    )
    with response:
        return response.json()
