"""Finding 6 (a, b): what HubEE sends is bounded. A JSON answer is read streamed up to
`max_json_bytes`, a file up to `max_file_bytes`: never the whole of an endless answer in memory
or on disk. The bodies here are produced on the fly and count what the client pulled."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from hubee_portal.hubee import HubEEClient, HubEEConfig, HubEEError, PermanentError, Reason
from tests.hubee.helpers import ATTACHMENT_ID, CASE_ID

MIB = 1024 * 1024
HUGE = 64 * MIB


class CountingBody(io.RawIOBase):
    """`size` bytes made on demand (`head`, then `fill`); counts what was read."""

    def __init__(self, size: int, head: bytes = b"", fill: bytes = b" ") -> None:
        self.size = size
        self.head = head
        self.fill = fill * (64 * 1024 // len(fill))
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.served, len(self.fill))
        if count <= 0:
            return 0
        source = self.head if self.served < len(self.head) else self.fill
        start = self.served if source is self.head else 0
        chunk = source[start : start + count]
        buffer[: len(chunk)] = chunk
        self.served += len(chunk)
        return len(chunk)


class LazyHubEE(BaseAdapter):
    """A token, then every API call answered 200 with `body` (Content-Length if `declared`);
    with `token_body`, the token request is answered with that body instead."""

    def __init__(
        self,
        body: CountingBody,
        declared: int | None = None,
        token_body: CountingBody | None = None,
    ) -> None:
        super().__init__()
        self.body = body
        self.declared = declared
        self.token_body = token_body
        self.api_calls = 0

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any) -> Any:
        response = requests.Response()
        response.request = request
        response.url = request.url or ""
        response.status_code = 200
        if (request.url or "").endswith("/token") and self.token_body is not None:
            response.headers["Content-Type"] = "application/json"
            response.raw = io.BufferedReader(self.token_body, buffer_size=64 * 1024)
            if not stream:
                response._content = response.raw.read()
            return response
        if (request.url or "").endswith("/token"):
            response._content = b'{"access_token": "t", "expires_in": 3600}'
            response._content_consumed = True
            response.headers["Content-Type"] = "application/json"
            return response
        self.api_calls += 1
        response.headers["Content-Type"] = "application/json"
        if self.declared is not None:
            response.headers["Content-Length"] = str(self.declared)
        response.raw = io.BufferedReader(self.body, buffer_size=64 * 1024)
        if not stream:
            # What requests does for a call that is not streamed: read it all.
            response._content = response.raw.read()
        return response

    def close(self) -> None:
        pass


def client_for(adapter: LazyHubEE, **settings: Any) -> HubEEClient:
    session = requests.Session()
    session.mount("https://hubee.test/", adapter)
    config = HubEEConfig(
        token_url="https://hubee.test/token",
        api_url="https://hubee.test",
        client_id="id",
        client_secret="secret",
        retries=0,
        **settings,
    )
    return HubEEClient(config, session=session, sleep=lambda s: None)


# -- a: JSON answers ------------------------------------------------------------------------


def test_endless_notifications_answer_is_cut_at_the_default_limit() -> None:
    body = CountingBody(HUGE, head=b"[")
    client = client_for(LazyHubEE(body))
    with pytest.raises(PermanentError) as caught:
        client.list_notifications(25)
    assert caught.value.reason == Reason.TOO_LARGE
    assert "Réponse de HubEE trop volumineuse" in str(caught.value)
    # A few MiB by default, and nothing much past it was pulled.
    assert client.config.max_json_bytes <= 16 * MIB
    assert body.served <= client.config.max_json_bytes + MIB


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    body = CountingBody(HUGE, head=b"{")
    adapter = LazyHubEE(body, declared=HUGE)
    client = client_for(adapter, max_json_bytes=MIB)
    with pytest.raises(PermanentError) as caught:
        client.get_case(CASE_ID)
    assert caught.value.reason == Reason.TOO_LARGE
    assert "plus de 1 Mio" in str(caught.value)
    assert body.served == 0


def test_limit_is_a_setting_of_the_connection() -> None:
    body = CountingBody(2 * MIB, head=b"[")
    client = client_for(LazyHubEE(body), max_json_bytes=MIB)
    with pytest.raises(HubEEError) as caught:
        client.list_notifications(25)
    assert caught.value.reason == Reason.TOO_LARGE
    assert not caught.value.transient  # the same answer next time: a protocol error
    assert body.served <= MIB + 256 * 1024


def test_answer_under_the_limit_is_read() -> None:
    item = b'{"id": "11111111-2222-4333-8444-555555555555", "caseId": null}'
    body = CountingBody(len(item) + 2, head=b"[" + item + b"]")
    client = client_for(LazyHubEE(body))
    assert [n.id for n in client.list_notifications(25)] == ["11111111-2222-4333-8444-555555555555"]


def test_endless_token_answer_is_cut_at_the_limit() -> None:
    """The OAuth token endpoint is HubEE's too: its answer is read within max_json_bytes,
    like every other JSON answer, never whole into memory."""
    token = CountingBody(HUGE, head=b'{"access_token": "')
    adapter = LazyHubEE(CountingBody(0), token_body=token)
    client = client_for(adapter, max_json_bytes=MIB)
    with pytest.raises(PermanentError) as caught:
        client.list_notifications(25)
    assert caught.value.reason == Reason.TOO_LARGE
    assert "plus de 1 Mio" in str(caught.value)
    assert token.served <= MIB + 256 * 1024
    assert adapter.api_calls == 0


# -- b: files -------------------------------------------------------------------------------


def test_file_without_declared_size_stops_at_the_maximum() -> None:
    body = CountingBody(HUGE, fill=b"\x00")
    client = client_for(LazyHubEE(body), max_file_bytes=MIB)
    target = io.BytesIO()
    with pytest.raises(PermanentError) as caught:
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, None)
    assert caught.value.reason == Reason.TOO_LARGE
    assert "plus de 1 Mio" in str(caught.value)
    assert body.served <= MIB + MIB
    assert target.getvalue() == b""  # nothing of it kept


def test_declared_size_over_the_maximum_is_not_fetched() -> None:
    adapter = LazyHubEE(CountingBody(HUGE, fill=b"\x00"))
    client = client_for(adapter, max_file_bytes=MIB)
    with pytest.raises(PermanentError) as caught:
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), 2 * MIB)
    assert caught.value.reason == Reason.TOO_LARGE
    assert adapter.api_calls == 0


def test_default_maximum_file_size() -> None:
    client = client_for(LazyHubEE(CountingBody(0)))
    assert client.config.max_file_bytes == 512 * MIB


def test_unusable_notifications_are_counted_not_hidden() -> None:
    items = b'[{"id": "pas-un-uuid"}, 42, {"id": "11111111-2222-4333-8444-555555555555"}]'
    client = client_for(LazyHubEE(CountingBody(len(items), head=items)))
    batch = client.list_notifications(25)
    assert [n.id for n in batch] == ["11111111-2222-4333-8444-555555555555"]
    assert batch.skipped == 2
