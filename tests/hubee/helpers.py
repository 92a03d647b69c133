"""Shared constants and fakes of the HubEE client tests."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import responses

TOKEN_URL = "https://auth.hubee.test/oauth2/token"
API_URL = "https://api.hubee.test"
BASE = f"{API_URL}/teledossiers/v1"
CLIENT_ID = "client-id-0001"
SECRET = "s3cr3t-never-shown"
EDITOR = "Commune de Test"
APPLICATION = "HubEE Portal"
VERSION = "0.1.0"

CASE_ID = "0b5b3a8e-6b2f-4f8e-9a55-3c9d7f1e2a10"
EVENT_ID = "a66abb0c-1d2e-4f30-8b41-5c6d7e8f9a0b"
OTHER_EVENT_ID = "c1d2e3f4-0a1b-4c2d-8e3f-405162738495"
NEW_EVENT_ID = "d7e8f9a0-b1c2-4d3e-8f40-516273849506"
ATTACHMENT_ID = "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f70819"
NOTIFICATION_ID = "f0e1d2c3-b4a5-4968-8776-655443322110"
NOTIFICATION_ID_2 = "11111111-2222-4333-8444-555555555555"

EXPIRED_TOKEN_BODY = {
    "errors": [
        {
            "code": 900901,
            "message": "Invalid Credentials : Invalid Credentials. Make sure you have given "
            "the correct access token",
        }
    ]
}


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def error_body(code: int, message: str) -> str:
    return json.dumps({"errors": [{"code": code, "message": message}]})


def add_token(
    rsps: responses.RequestsMock,
    token: str = "tok-1",  # noqa: S107 - a fake token
    expires_in: int | None = 3600,
    status: int = 200,
) -> None:
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "scope": "SI"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    rsps.add(responses.POST, TOKEN_URL, json=body, status=status)


def token_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [call for call in rsps.calls if call.request.url == TOKEN_URL]


def api_calls(rsps: responses.RequestsMock, method: str | None = None) -> list[Any]:
    return [
        call
        for call in rsps.calls
        if call.request.url != TOKEN_URL and (method is None or call.request.method == method)
    ]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class MaxRng:
    """Records uniform() bounds and returns the upper one, so sleeps are predictable."""

    def __init__(self) -> None:
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, low: float, high: float) -> float:
        self.bounds.append((low, high))
        return high


class BrokenRaw(io.RawIOBase):
    """A response body whose connection drops after `fail_after` bytes."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self.data = data
        self.fail_after = fail_after
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        size = min(len(buffer), self.fail_after - self.pos)
        buffer[:size] = self.data[self.pos : self.pos + size]
        self.pos += size
        return size


class RecordingFile(io.BytesIO):
    """A BytesIO that remembers the size of every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, data: Any) -> int:
        self.writes.append(len(data))
        return super().write(data)


# The fields the OpenAPI file requires, so that the typed payloads read these fixtures.
RECIPIENT = {"type": "SI", "companyRegister": "21750001600019", "branchCode": "75056"}
TRANSMITTER = {"type": "OSL", "companyRegister": "13002526500013", "branchCode": "75107"}


def case_json(**changes: Any) -> dict[str, Any]:
    """A case as HubEE sends it: every required field, no event, no file."""
    return {
        "id": CASE_ID,
        "status": "HUBEE_NOTIFIED",
        "recipient": RECIPIENT,
        "externalId": "DILA-AEC-0000000000001-01",
        "processCode": "EtatCivil",
        "createDateTime": "2024-07-04T08:50:00.000+00:00",
        "events": [],
        "attachments": [],
        **changes,
    }


def event_json(event_id: str = EVENT_ID, **changes: Any) -> dict[str, Any]:
    """An event as HubEE sends it: every required field."""
    return {
        "id": event_id,
        "transmitter": TRANSMITTER,
        "status": "SENT",
        "actionType": "STATUS_UPDATE",
        **changes,
    }
