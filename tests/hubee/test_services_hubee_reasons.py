"""Each HubEE error carries a `reason`, set where the client raises it."""

from __future__ import annotations

import pickle
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from hubee_portal.hubee import (
    AmbiguousEventError,
    CorruptDownloadError,
    HubEEClient,
    HubEEError,
    InvalidPayloadError,
    Reason,
    TransientError,
)
from tests.hubee.helpers import BASE, CASE_ID, TOKEN_URL, add_token, error_body

CASE_URL = f"{BASE}/cases/{CASE_ID}"


def _dns_failure() -> requests.exceptions.ConnectionError:
    # What requests raises for an unknown host (urllib3 2): the gaierror is wrapped twice.
    gaierror = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    resolution = NameResolutionError("api.hubee.test", None, gaierror)
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", resolution))


def _refused_failure() -> requests.exceptions.ConnectionError:
    refused = NewConnectionError(None, "Failed to establish a new connection")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", refused))


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (_dns_failure, Reason.DNS),
        (_refused_failure, Reason.REFUSED),
        (lambda: requests.exceptions.ConnectTimeout("connect timed out"), Reason.TIMEOUT),
        (lambda: requests.exceptions.ReadTimeout("read timed out"), Reason.TIMEOUT),
        (lambda: requests.exceptions.ProxyError("Unable to connect to proxy"), Reason.PROXY),
        (lambda: requests.exceptions.ConnectionError("Connection reset by peer"), Reason.NETWORK),
        (
            lambda: requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED self signed"),
            Reason.TLS,
        ),
    ],
)
def test_network_failures_say_what_failed(
    rsps: responses.RequestsMock,
    make_client: Callable[..., HubEEClient],
    failure: Callable[[], Exception],
    reason: Reason,
) -> None:
    rsps.add(responses.POST, TOKEN_URL, body=failure())
    with pytest.raises(HubEEError) as caught:
        make_client(retries=0).check_credentials()
    assert caught.value.reason is reason


def test_a_real_refused_connection_is_refused(make_client: Callable[..., HubEEClient]) -> None:
    # A port of this machine nobody listens on: the kernel refuses at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(token_url=f"http://127.0.0.1:{port}/token", retries=0)
    with pytest.raises(TransientError) as caught:
        client.check_credentials()
    assert caught.value.reason is Reason.REFUSED


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, Reason.CREDENTIALS),
        (401, Reason.CREDENTIALS),
        (403, Reason.FORBIDDEN),
        (404, Reason.NOT_FOUND),
        (418, Reason.HTTP_ERROR),
        (302, Reason.REDIRECT),
        (429, Reason.THROTTLED),
        (503, Reason.SERVER),
    ],
)
def test_token_answers_say_what_failed(
    rsps: responses.RequestsMock,
    make_client: Callable[..., HubEEClient],
    status: int,
    reason: Reason,
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=status, body=error_body(1, "non"))
    with pytest.raises(HubEEError) as caught:
        make_client(retries=0).check_credentials()
    assert caught.value.reason is reason
    assert caught.value.status_code == status


def test_a_token_answer_without_token(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"motd": "bonjour"})
    with pytest.raises(HubEEError) as caught:
        make_client().check_credentials()
    assert caught.value.reason is Reason.NO_TOKEN


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, Reason.BAD_REQUEST),
        (403, Reason.FORBIDDEN),
        (404, Reason.NOT_FOUND),
        (409, Reason.HTTP_ERROR),
        (429, Reason.THROTTLED),
        (500, Reason.SERVER),
    ],
)
def test_api_answers_say_what_failed(
    rsps: responses.RequestsMock,
    make_client: Callable[..., HubEEClient],
    status: int,
    reason: Reason,
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, status=status, body=error_body(status, "non"))
    with pytest.raises(HubEEError) as caught:
        make_client(retries=0).get_case(CASE_ID)
    assert caught.value.reason is reason


def test_a_rejected_token_on_the_api_is_credentials(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, status=401, body=error_body(900901, "Invalid"))
    with pytest.raises(HubEEError) as caught:
        make_client(retries=0).get_case(CASE_ID)
    assert caught.value.reason is Reason.CREDENTIALS


@pytest.mark.parametrize("body", ["<html>", "[1, 2]"])
def test_an_unexpected_body_is_an_invalid_response(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient], body: str
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, body=body)
    with pytest.raises(HubEEError) as caught:
        make_client().get_case(CASE_ID)
    assert caught.value.reason is Reason.INVALID_RESPONSE


def test_class_reasons_and_pickling() -> None:
    assert CorruptDownloadError("x").reason is Reason.CORRUPT_DOWNLOAD
    assert AmbiguousEventError("x").reason is Reason.AMBIGUOUS
    assert TransientError("x").reason is Reason.UNEXPECTED
    error = InvalidPayloadError("HubEE payload without externalId", field="externalId")
    assert error.reason is Reason.INVALID_PAYLOAD
    assert not error.transient
    restored = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (restored.reason, restored.field) == (Reason.INVALID_PAYLOAD, "externalId")
    throttled = pickle.loads(pickle.dumps(TransientError("t", reason=Reason.THROTTLED)))  # noqa: S301
    assert throttled.reason is Reason.THROTTLED
    # An error pickled before `reason` existed reads its class's.
    old = AmbiguousEventError("x", reason=Reason.SERVER)
    del old.__dict__["reason"]
    assert pickle.loads(pickle.dumps(old)).reason is Reason.AMBIGUOUS  # noqa: S301


def test_the_api_version_is_written_once_in_the_protocol() -> None:
    package = Path(__file__).resolve().parents[2] / "hubee_portal" / "hubee"
    hits = [
        (path.name, line)
        for path in sorted(package.glob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if "teledossiers/v1" in line
    ]
    assert hits == [("client.py", 'API_PREFIX = "/teledossiers/v1"')]
