"""HubEE client: streamed, verified downloads and streamed uploads."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from hubee_portal.hubee import (
    CorruptDownloadError,
    HubEEClient,
    NotFoundError,
    TransientError,
)
from tests.hubee.helpers import (
    ATTACHMENT_ID,
    BASE,
    CASE_ID,
    EVENT_ID,
    BrokenRaw,
    RecordingFile,
    add_token,
    api_calls,
    b64_sha256,
)

GOOD = os.urandom(600 * 1024)  # several chunks
BAD = GOOD[:-10] + b"x" * 10
FILE_URL = f"{BASE}/cases/{CASE_ID}/attachments/{ATTACHMENT_ID}"
EVENT_FILE_URL = f"{BASE}/cases/{CASE_ID}/events/{EVENT_ID}/attachments/{ATTACHMENT_ID}"


class RecordingSession(requests.Session):
    """Keeps every response, to check each one was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[requests.Response] = []
        self.bodies: list[Any] = []

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.bodies.append(kwargs.get("data"))
        response = super().request(*args, **kwargs)
        self.responses.append(response)
        return response


def test_download_is_streamed_to_the_file_and_checked(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=GOOD, headers={"digest": b64_sha256(GOOD)})
    target = RecordingFile()

    result = client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, len(GOOD))

    assert target.getvalue() == GOOD
    assert result.size == len(GOOD)
    assert result.sha256_hex == hashlib.sha256(GOOD).hexdigest()
    assert result.sha256_b64 == b64_sha256(GOOD)
    assert result.digest_checked is True
    (call,) = api_calls(rsps)
    assert call.request.req_kwargs["stream"] is True
    # Written piece by piece, never as one whole body.
    assert len(target.writes) >= 2
    assert max(target.writes) <= 1024 * 1024
    assert min(target.writes) >= 1


@pytest.mark.parametrize(
    "header",
    [
        f"SHA-256={b64_sha256(GOOD)}",
        f"sha-256={b64_sha256(GOOD)}",
        f"  {b64_sha256(GOOD)}  ",
        f"MD5=Q2hlY2sgSW50ZWdyaXR5IQ==, SHA-256={b64_sha256(GOOD)}",
    ],
    ids=["upper-prefix", "lower-prefix", "spaces", "list"],
)
def test_download_accepts_digest_header_forms(
    rsps: responses.RequestsMock, client: HubEEClient, header: str
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=GOOD, headers={"digest": header})

    result = client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), None)

    assert result.digest_checked is True
    assert len(api_calls(rsps)) == 1


def test_digest_is_compared_case_sensitively(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=0)
    add_token(rsps)
    digest = b64_sha256(GOOD)
    assert digest != digest.swapcase()
    rsps.add(responses.GET, FILE_URL, body=GOOD, headers={"digest": digest.swapcase()})

    with pytest.raises(CorruptDownloadError):
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), None)


def test_download_without_digest_header_checks_the_size_only(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=GOOD)
    target = io.BytesIO()

    result = client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, len(GOOD))

    assert result.digest_checked is False
    assert result.size == len(GOOD)
    assert target.getvalue() == GOOD


def test_digest_mismatch_is_retried_and_leaves_only_the_good_bytes(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    longer_bad = GOOD + b"trailing garbage"
    rsps.add(responses.GET, FILE_URL, body=longer_bad, headers={"digest": b64_sha256(GOOD)})
    rsps.add(responses.GET, FILE_URL, body=GOOD, headers={"digest": b64_sha256(GOOD)})
    target = io.BytesIO()

    result = client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, None)

    assert target.getvalue() == GOOD  # no leftover of the longer bad body
    assert result.size == len(GOOD)
    assert len(api_calls(rsps)) == 2
    assert len(sleeps) == 1


def test_persistent_digest_mismatch_raises_corrupt_download_error(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=BAD, headers={"digest": b64_sha256(GOOD)})
    target = io.BytesIO(b"previous content")

    with pytest.raises(CorruptDownloadError) as caught:
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, len(GOOD))

    error = caught.value
    assert error.transient is True
    assert error.expected_digest == b64_sha256(GOOD)
    assert error.actual_digest == b64_sha256(BAD)
    assert error.expected_size == error.actual_size == len(GOOD)
    assert "sha-256" in str(error)
    assert target.getvalue() == b""  # no corrupt bytes left behind
    assert len(api_calls(rsps)) == 6
    assert len(sleeps) == 5


def test_size_mismatch_raises_corrupt_download_error(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=1)
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=b"0123456789ab")
    target = io.BytesIO()

    with pytest.raises(CorruptDownloadError) as caught:
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, 10)

    assert caught.value.expected_size == 10
    assert caught.value.actual_size > 10
    assert caught.value.expected_digest is None
    assert target.getvalue() == b""
    assert len(api_calls(rsps)) == 2


def test_size_too_short_is_a_mismatch(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=0)
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, body=b"0123")

    with pytest.raises(CorruptDownloadError) as caught:
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), 10)

    assert (caught.value.expected_size, caught.value.actual_size) == (10, 4)


def test_connection_broken_mid_body_is_retried(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    bodies = [io.BufferedReader(BrokenRaw(GOOD, 300 * 1024)), GOOD]

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], Any]:
        return 200, {"digest": b64_sha256(GOOD)}, bodies.pop(0)

    rsps.add_callback(responses.GET, FILE_URL, callback=callback)
    target = io.BytesIO()

    result = client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, len(GOOD))

    assert target.getvalue() == GOOD
    assert result.digest_checked is True
    assert len(api_calls(rsps)) == 2
    assert len(sleeps) == 1


def test_connection_broken_every_time_raises_transient_error(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=2)
    add_token(rsps)
    rsps.add_callback(
        responses.GET,
        FILE_URL,
        callback=lambda request: (200, {}, io.BufferedReader(BrokenRaw(GOOD, 1000))),
    )
    target = io.BytesIO()

    with pytest.raises(TransientError, match="interrupted"):
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, target, len(GOOD))

    assert target.getvalue() == b""
    assert len(api_calls(rsps)) == 3


def test_download_404_is_not_retried(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(
        responses.GET,
        FILE_URL,
        json={"errors": [{"code": 404, "message": "File is not found"}]},
        status=404,
    )

    with pytest.raises(NotFoundError, match="File is not found"):
        client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), 3)
    assert len(api_calls(rsps)) == 1
    assert sleeps == []


def test_every_download_response_is_closed(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient], clock: Any
) -> None:
    from hubee_portal.hubee import HubEEConfig

    session = RecordingSession()
    base = make_client()
    client = HubEEClient(
        HubEEConfig(**{**base.config.__dict__, "retries": 3}),
        session=session,
        sleep=lambda seconds: None,
        monotonic=clock,
    )
    add_token(rsps)
    rsps.add(responses.GET, FILE_URL, status=503)
    rsps.add(responses.GET, FILE_URL, body=BAD, headers={"digest": b64_sha256(GOOD)})
    rsps.add_callback(
        responses.GET,
        FILE_URL,
        callback=lambda request: (200, {}, io.BufferedReader(BrokenRaw(GOOD, 1000))),
    )
    rsps.add(responses.GET, FILE_URL, body=GOOD, headers={"digest": b64_sha256(GOOD)})

    client.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), len(GOOD))

    downloads = [r for r in session.responses if r.url == FILE_URL]
    assert [r.status_code for r in downloads] == [503, 200, 200, 200]
    assert all(r.raw.closed for r in downloads)
    session.close()


def test_download_event_attachment(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    rsps.add(responses.GET, EVENT_FILE_URL, body=b"hello", headers={"digest": b64_sha256(b"hello")})
    target = io.BytesIO()

    result = client.download_event_attachment(CASE_ID, EVENT_ID, ATTACHMENT_ID, target, 5)

    assert target.getvalue() == b"hello"
    assert result.digest_checked is True
    assert api_calls(rsps)[0].request.url == EVENT_FILE_URL


# -- upload -----------------------------------------------------------------------------------


def test_upload_streams_the_file_and_resends_it_whole_on_retry(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient], clock: Any
) -> None:
    from hubee_portal.hubee import HubEEConfig

    session = RecordingSession()
    sleeps: list[float] = []
    client = HubEEClient(
        HubEEConfig(**make_client().config.__dict__),
        session=session,
        sleep=sleeps.append,
        monotonic=clock,
    )
    add_token(rsps)
    received: list[tuple[bytes, dict[str, str]]] = []
    statuses = [503, 204]

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        # responses has already read the streamed body into bytes.
        received.append((request.body, dict(request.headers)))
        return statuses.pop(0), {}, b""

    rsps.add_callback(responses.PUT, EVENT_FILE_URL, callback=callback)
    source = io.BytesIO(GOOD)
    source.seek(1234)  # the client must not care where the caller left it

    client.upload_event_attachment(
        CASE_ID, EVENT_ID, ATTACHMENT_ID, source, len(GOOD), sha256_b64=b64_sha256(GOOD)
    )

    assert [data for data, _ in received] == [GOOD, GOOD]
    for _, headers in received:
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Length"] == str(len(GOOD))
        assert headers["digest"] == b64_sha256(GOOD)
        assert headers["applicationName"] == "HubEE Portal"
    put_bodies = session.bodies[1:]  # the first request is the token call
    assert put_bodies == [source, source]  # the file object itself: streamed, not read
    calls = api_calls(rsps, "PUT")
    assert calls[0].request.req_kwargs["timeout"] == (5.0, 300.0)
    assert len(sleeps) == 1
    session.close()


def test_upload_without_digest(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    rsps.add(responses.PUT, EVENT_FILE_URL, status=204)

    client.upload_event_attachment(CASE_ID, EVENT_ID, ATTACHMENT_ID, io.BytesIO(b"abc"), 3)

    (call,) = api_calls(rsps, "PUT")
    assert "digest" not in call.request.headers


@pytest.mark.parametrize(
    ("size", "digest"),
    [(4, None), (3, "not base64!"), (3, "YWJj")],
    ids=["size", "digest-not-base64", "digest-not-32-bytes"],
)
def test_upload_checks_its_arguments_before_any_http(
    rsps: responses.RequestsMock, client: HubEEClient, size: int, digest: str | None
) -> None:
    with pytest.raises(ValueError):
        client.upload_event_attachment(
            CASE_ID, EVENT_ID, ATTACHMENT_ID, io.BytesIO(b"abc"), size, sha256_b64=digest
        )
    assert len(rsps.calls) == 0
