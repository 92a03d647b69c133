"""HubEE client: token, headers, retries, typed errors, notifications, cases."""

from __future__ import annotations

import base64
import io
import json
import logging
import pickle
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from hubee_portal.hubee import (
    AuthenticationError,
    BadRequestError,
    EventDraft,
    ForbiddenError,
    HubEEClient,
    HubEEConfig,
    HubEEError,
    InvalidPayloadError,
    NotFoundError,
    Notification,
    PermanentError,
    TransientError,
    parse_hubee_datetime,
)
from tests.hubee.helpers import (
    API_URL,
    APPLICATION,
    ATTACHMENT_ID,
    BASE,
    CASE_ID,
    CLIENT_ID,
    EDITOR,
    EVENT_ID,
    EXPIRED_TOKEN_BODY,
    NOTIFICATION_ID,
    NOTIFICATION_ID_2,
    SECRET,
    TOKEN_URL,
    VERSION,
    FakeClock,
    MaxRng,
    add_token,
    api_calls,
    case_json,
    error_body,
    event_json,
    token_calls,
)

CASE_URL = f"{BASE}/cases/{CASE_ID}"
EVENT_URL = f"{CASE_URL}/events/{EVENT_ID}"
NOTIFICATIONS_URL = f"{BASE}/notifications"
CASE = case_json()


# -- token ------------------------------------------------------------------------------------


def test_token_request_shape(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps, token="tok-abc")
    rsps.add(responses.GET, CASE_URL, json=CASE)

    assert client.get_case(CASE_ID).raw == CASE

    (token_call,) = token_calls(rsps)
    request = token_call.request
    assert request.method == "POST"
    expected_basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_basic}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == "scope=SI&grant_type=client_credentials"
    assert request.headers["editorName"] == EDITOR
    assert request.headers["applicationName"] == APPLICATION
    assert request.headers["softwareVersion"] == VERSION
    assert token_call.request.req_kwargs["timeout"] == (5.0, 60.0)

    (api_call,) = api_calls(rsps)
    assert api_call.request.headers["Authorization"] == "Bearer tok-abc"
    assert api_call.request.req_kwargs["timeout"] == (5.0, 60.0)


def test_empty_identification_headers_are_omitted(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(software_version="", editor_name="")
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)

    for call in rsps.calls:
        assert call.request.headers["applicationName"] == APPLICATION
        assert "softwareVersion" not in call.request.headers
        assert "editorName" not in call.request.headers


OPERATIONS: dict[str, Callable[[HubEEClient], object]] = {
    "list_notifications": lambda c: c.list_notifications(25),
    "delete_notification": lambda c: c.delete_notification(NOTIFICATION_ID),
    "get_case": lambda c: c.get_case(CASE_ID, lite=True),
    "get_event": lambda c: c.get_event(CASE_ID, EVENT_ID),
    "patch_case": lambda c: c.patch_case(CASE_ID, "SENT"),
    "patch_event": lambda c: c.patch_event(CASE_ID, EVENT_ID, "RECEIVED"),
    "delete_event": lambda c: c.delete_event(CASE_ID, EVENT_ID),
    "create_event": lambda c: c.create_event(
        CASE_ID, EventDraft.status_update("SENT", author="Agent")
    ),
    "download": lambda c: c.download_case_attachment(CASE_ID, ATTACHMENT_ID, io.BytesIO(), 3),
    "upload": lambda c: c.upload_event_attachment(
        CASE_ID, EVENT_ID, ATTACHMENT_ID, io.BytesIO(b"abc"), 3
    ),
}


def _register_success(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS_URL, json=[])
    rsps.add(responses.DELETE, f"{NOTIFICATIONS_URL}/{NOTIFICATION_ID}", status=204)
    rsps.add(responses.GET, CASE_URL, json=CASE)
    rsps.add(responses.GET, EVENT_URL, json=event_json())
    rsps.add(responses.PATCH, CASE_URL, status=204)
    rsps.add(responses.PATCH, EVENT_URL, status=204)
    rsps.add(responses.DELETE, EVENT_URL, status=204)
    rsps.add(responses.POST, f"{CASE_URL}/events", json=event_json(), status=201)
    rsps.add(responses.GET, f"{CASE_URL}/attachments/{ATTACHMENT_ID}", body=b"abc")
    rsps.add(responses.PUT, f"{EVENT_URL}/attachments/{ATTACHMENT_ID}", status=204)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_identification_headers_and_timeout_on_every_call(
    rsps: responses.RequestsMock, client: HubEEClient, operation: str
) -> None:
    add_token(rsps)
    _register_success(rsps)

    OPERATIONS[operation](client)

    calls = api_calls(rsps)
    assert len(calls) == 1
    assert len(token_calls(rsps)) == 1
    for call in rsps.calls:
        assert call.request.headers["editorName"] == EDITOR
        assert call.request.headers["applicationName"] == APPLICATION
        assert call.request.headers["softwareVersion"] == VERSION
        timeout = call.request.req_kwargs["timeout"]
        assert isinstance(timeout, tuple) and timeout[0] == 5.0
    assert calls[0].request.headers["Authorization"] == "Bearer tok-1"


def test_token_is_cached_until_shortly_before_expiry(
    rsps: responses.RequestsMock, client: HubEEClient, clock: FakeClock
) -> None:
    add_token(rsps, token="tok-1", expires_in=3600)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)
    clock.now += 3539  # 1 s before the 60 s safety margin
    client.get_case(CASE_ID)
    assert len(token_calls(rsps)) == 1

    rsps.replace(responses.POST, TOKEN_URL, json={"access_token": "tok-2", "expires_in": 3600})
    clock.now += 2  # inside the margin: refresh
    client.get_case(CASE_ID)

    assert len(token_calls(rsps)) == 2
    assert api_calls(rsps)[-1].request.headers["Authorization"] == "Bearer tok-2"
    assert client.stats.token_requests == 2
    assert client.stats.calls == 5


@pytest.mark.parametrize(
    ("expires_in", "still_cached_after", "refreshed_after"),
    [
        (100, 89, 91),  # short lifetime: 10 % early
        (None, 3539, 3541),  # absent: 3600 s assumed
        ("garbage", 3539, 3541),
    ],
)
def test_token_lifetime_rules(
    rsps: responses.RequestsMock,
    client: HubEEClient,
    clock: FakeClock,
    expires_in: object,
    still_cached_after: float,
    refreshed_after: float,
) -> None:
    body = {"access_token": "tok-1"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    rsps.add(responses.POST, TOKEN_URL, json=body)
    rsps.add(responses.GET, CASE_URL, json=CASE)
    start = clock.now

    client.get_case(CASE_ID)
    clock.now = start + still_cached_after
    client.get_case(CASE_ID)
    assert len(token_calls(rsps)) == 1
    clock.now = start + refreshed_after
    client.get_case(CASE_ID)
    assert len(token_calls(rsps)) == 2


def test_401_refreshes_the_token_once_and_replays(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps, token="tok-old")
    add_token(rsps, token="tok-new")
    rsps.add(responses.GET, CASE_URL, json=EXPIRED_TOKEN_BODY, status=401)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    assert client.get_case(CASE_ID).raw == CASE

    calls = api_calls(rsps)
    assert [c.request.headers["Authorization"] for c in calls] == [
        "Bearer tok-old",
        "Bearer tok-new",
    ]
    assert len(token_calls(rsps)) == 2
    assert sleeps == []


def test_second_401_raises_authentication_error(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps, token="tok-1")
    add_token(rsps, token="tok-2")
    rsps.add(responses.GET, CASE_URL, json=EXPIRED_TOKEN_BODY, status=401)

    with pytest.raises(AuthenticationError) as caught:
        client.get_case(CASE_ID)

    assert caught.value.status_code == 401
    assert caught.value.code == 900901
    assert caught.value.transient is False
    assert len(api_calls(rsps)) == 2
    assert len(token_calls(rsps)) == 2
    assert sleeps == []


@pytest.mark.parametrize("status", [400, 401])
def test_rejected_credentials_raise_authentication_error_without_secret(
    rsps: responses.RequestsMock,
    client: HubEEClient,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={"error": "invalid_client", "error_description": "Client Authentication failed."},
        status=status,
    )

    with pytest.raises(AuthenticationError) as caught:
        client.list_notifications(25)

    error = caught.value
    assert "credentials" in str(error)
    assert error.status_code == status
    assert error.hubee_message == "Client Authentication failed."
    for text in (str(error), repr(error), repr(client.config), caplog.text):
        assert SECRET not in text
    assert len(token_calls(rsps)) == 1
    assert api_calls(rsps) == []
    assert sleeps == []


def test_token_server_error_is_retried(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=503)
    add_token(rsps, token="tok-1")
    rsps.add(responses.GET, CASE_URL, json=CASE)

    assert client.get_case(CASE_ID).raw == CASE
    assert len(token_calls(rsps)) == 2
    assert len(api_calls(rsps)) == 1
    assert len(sleeps) == 1


def test_threads_share_one_token(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    def slow_token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        time.sleep(0.05)  # long enough for every thread to ask for a token meanwhile
        return 200, {}, json.dumps({"access_token": "tok-1", "expires_in": 3600})

    rsps.add_callback(responses.POST, TOKEN_URL, callback=slow_token)
    rsps.add(responses.GET, CASE_URL, json=CASE)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(5):
                client.get_case(CASE_ID)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(token_calls(rsps)) == 1
    assert len(api_calls(rsps)) == 40
    assert client.stats.calls == 41


def test_session_pool_fits_several_threads(client: HubEEClient) -> None:
    adapter = client._session.get_adapter(API_URL)
    assert adapter._pool_maxsize >= 10


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failures",
    [
        [500],
        [503],
        [requests.ConnectionError("connection reset")],
        [requests.ReadTimeout("read timed out")],
        [requests.ConnectTimeout("connect timed out")],
        [502, requests.ConnectionError("reset"), 504],
    ],
    ids=["500", "503", "connection-error", "read-timeout", "connect-timeout", "mixed"],
)
def test_transient_failures_are_retried_with_backoff(
    rsps: responses.RequestsMock,
    client: HubEEClient,
    sleeps: list[float],
    rng: MaxRng,
    failures: list[object],
) -> None:
    add_token(rsps)
    for failure in failures:
        if isinstance(failure, int):
            rsps.add(responses.GET, CASE_URL, body=error_body(failure, "boom"), status=failure)
        else:
            rsps.add(responses.GET, CASE_URL, body=failure)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    assert client.get_case(CASE_ID).raw == CASE

    assert len(api_calls(rsps)) == len(failures) + 1
    assert rng.bounds == [(0, 0.5 * 2**i) for i in range(len(failures))]
    assert sleeps == [0.5 * 2**i for i in range(len(failures))]
    assert client.stats.retries == len(failures)


def test_backoff_is_capped(
    rsps: responses.RequestsMock,
    make_client: Callable[..., HubEEClient],
    sleeps: list[float],
) -> None:
    client = make_client(retries=8, backoff_base=1.0, backoff_cap=10.0)
    add_token(rsps)
    for _ in range(8):
        rsps.add(responses.GET, CASE_URL, status=500)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)

    assert sleeps == [1, 2, 4, 8, 10, 10, 10, 10]


def test_jitter_draws_from_the_injected_rng(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    import random

    sleeps: list[float] = []
    config = HubEEConfig(TOKEN_URL, API_URL, CLIENT_ID, SECRET)
    client = HubEEClient(config, sleep=sleeps.append, monotonic=clock, rng=random.Random(42))
    add_token(rsps)
    for _ in range(3):
        rsps.add(responses.GET, CASE_URL, status=503)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)
    client.close()

    expected_rng = random.Random(42)
    assert sleeps == [expected_rng.uniform(0, 0.5 * 2**i) for i in range(3)]
    assert all(0 <= s <= 0.5 * 2**i for i, s in enumerate(sleeps))


def test_retries_exhausted_raise_transient_error_with_hubee_message(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, body=error_body(500, "Internal server error"), status=503)

    with pytest.raises(TransientError) as caught:
        client.get_case(CASE_ID)

    error = caught.value
    assert error.transient is True
    assert error.status_code == 503
    assert error.code == 500
    assert error.hubee_message == "Internal server error"
    assert error.method == "GET"
    assert error.path == f"/teledossiers/v1/cases/{CASE_ID}"
    assert str(error) == (
        f"HubEE server error: GET /teledossiers/v1/cases/{CASE_ID} -> HTTP 503 "
        "(HubEE code 500): Internal server error"
    )
    assert len(api_calls(rsps)) == 6  # first attempt + 5 retries
    assert len(sleeps) == 5


def test_connection_error_exhausted_is_transient(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=2)
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, body=requests.ConnectionError("connection refused"))

    with pytest.raises(TransientError) as caught:
        client.get_case(CASE_ID)

    assert caught.value.status_code is None
    assert "ConnectionError" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert len(api_calls(rsps)) == 3


def test_non_json_error_body_is_kept_short(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(retries=0)
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, body="<html>" + "x" * 5000 + "</html>", status=502)

    with pytest.raises(TransientError) as caught:
        client.get_case(CASE_ID)

    assert caught.value.hubee_message.startswith("<html>xxx")
    assert len(caught.value.hubee_message) <= 500


@pytest.mark.parametrize(
    ("retry_after", "expected_sleep"),
    [
        ("7", 7.0),
        ("120", 30.0),  # capped at backoff_cap
        (format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True), 30.0),
        (format_datetime(datetime.now(UTC) - timedelta(hours=2), usegmt=True), 0.0),
    ],
    ids=["seconds", "seconds-capped", "http-date-capped", "http-date-past"],
)
def test_429_retry_after_is_honoured(
    rsps: responses.RequestsMock,
    client: HubEEClient,
    sleeps: list[float],
    rng: MaxRng,
    retry_after: str,
    expected_sleep: float,
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, status=429, headers={"Retry-After": retry_after})
    rsps.add(responses.GET, CASE_URL, json=CASE)

    assert client.get_case(CASE_ID).raw == CASE

    assert sleeps == [expected_sleep]
    assert rng.bounds == []  # no jitter when HubEE says how long to wait
    assert len(api_calls(rsps)) == 2


def test_429_without_retry_after_uses_backoff(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, status=429)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)

    assert sleeps == [0.5]


@pytest.mark.parametrize(
    ("status", "error_class", "message"),
    [
        (400, BadRequestError, "Bad Request : Validation failed."),
        (403, ForbiddenError, "Unauthorized user"),
        (404, NotFoundError, "Case is not found"),
        (405, PermanentError, "Method not allowed"),
        (409, PermanentError, "Conflict"),
    ],
)
def test_permanent_errors_are_not_retried(
    rsps: responses.RequestsMock,
    client: HubEEClient,
    sleeps: list[float],
    status: int,
    error_class: type[HubEEError],
    message: str,
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, body=error_body(status, message), status=status)

    with pytest.raises(error_class) as caught:
        client.get_case(CASE_ID)

    error = caught.value
    assert isinstance(error, PermanentError)
    assert error.transient is False
    assert error.status_code == status
    assert error.hubee_message == message
    assert f"GET /teledossiers/v1/cases/{CASE_ID}" in str(error)
    assert f"HTTP {status}" in str(error)
    assert len(api_calls(rsps)) == 1
    assert sleeps == []


def test_error_message_is_one_line(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    message = (
        "Bad Request : Validation failed.\n[ERROR][REQUEST][DELETE /teledossiers/v1/"
        'notifications/dddddd @path.notificationId] Input string "dddddd" is not a valid UUID'
    )
    rsps.add(responses.PATCH, CASE_URL, body=error_body(400, message), status=400)

    with pytest.raises(BadRequestError) as caught:
        client.patch_case(CASE_ID, "SENT")

    assert "\n" not in str(caught.value)
    assert "is not a valid UUID" in str(caught.value)
    assert caught.value.hubee_message == message  # kept verbatim on the attribute


def test_errors_survive_pickling() -> None:
    error = NotFoundError(
        "HubEE object not found",
        method="GET",
        path="/teledossiers/v1/cases/x",
        status_code=404,
        code=404,
        hubee_message="Case is not found",
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is NotFoundError
    assert (copy.status_code, copy.hubee_message, str(copy)) == (
        404,
        "Case is not found",
        str(error),
    )


# -- notifications ----------------------------------------------------------------------------


def test_list_notifications_parses_items(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    items = [
        {
            "id": NOTIFICATION_ID,
            "processCode": "CERTDC",
            "caseId": CASE_ID,
            "eventId": None,
            "eventActionType": None,
            "eventStatus": None,
            "dateTime": "2022-03-01T16:24:44.521Z",
        },
        {
            "id": NOTIFICATION_ID_2,
            "processCode": "EtatCivil",
            "caseId": CASE_ID,
            "eventId": EVENT_ID,
            "actionType": "STATUS_UPDATE",  # the other spelling
            "eventStatus": "SENT",
            "dateTime": "2024-07-04T10:54:15.438+02:00",
            "unknownField": 1,
        },
    ]
    rsps.add(responses.GET, NOTIFICATIONS_URL, json=items)

    notifications = client.list_notifications(25, process_codes=["CERTDC", "EtatCivil"])

    query = parse_qs(urlsplit(api_calls(rsps)[0].request.url).query)
    assert query == {
        "maxResult": ["25"],
        "eventDetails": ["true"],
        "processCode": ["CERTDC", "EtatCivil"],
    }
    new_case, event = notifications
    assert new_case == Notification(
        id=NOTIFICATION_ID,
        process_code="CERTDC",
        case_id=CASE_ID,
        event_id=None,
        event_action_type=None,
        event_status=None,
        date_time=datetime(2022, 3, 1, 16, 24, 44, 521000, tzinfo=UTC),
        raw=items[0],
    )
    assert new_case.is_new_case
    assert event.event_id == EVENT_ID
    assert event.event_action_type == "STATUS_UPDATE"
    assert event.event_status == "SENT"
    assert event.date_time == datetime(2024, 7, 4, 8, 54, 15, 438000, tzinfo=UTC)
    assert event.raw["unknownField"] == 1
    assert not event.is_new_case


def test_event_action_type_wins_over_action_type(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    item = {
        "id": NOTIFICATION_ID,
        "eventId": EVENT_ID,
        "eventActionType": "ATTACH_DEPOSIT",
        "actionType": "OTHER",
    }
    rsps.add(responses.GET, NOTIFICATIONS_URL, json=[item])

    (notification,) = client.list_notifications(10, event_details=False)

    assert notification.event_action_type == "ATTACH_DEPOSIT"
    assert notification.date_time is None
    assert parse_qs(urlsplit(api_calls(rsps)[0].request.url).query) == {"maxResult": ["10"]}


def test_malformed_notifications_are_skipped_and_logged(
    rsps: responses.RequestsMock, client: HubEEClient, caplog: pytest.LogCaptureFixture
) -> None:
    add_token(rsps)
    good = {"id": NOTIFICATION_ID, "caseId": CASE_ID, "eventId": None}
    rsps.add(
        responses.GET,
        NOTIFICATIONS_URL,
        json=[
            good,
            "not an object",
            {"id": "dddddd", "caseId": CASE_ID},
            {"caseId": CASE_ID},
            {**good, "id": NOTIFICATION_ID_2},
        ],
    )

    with caplog.at_level(logging.WARNING, logger="hubee_portal.hubee"):
        notifications = client.list_notifications(25)

    assert [n.id for n in notifications] == [NOTIFICATION_ID, NOTIFICATION_ID_2]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 3
    assert [m.split("#")[1].split(" ")[0] for m in skipped] == ["1", "2", "3"]


def test_non_list_notifications_body_is_a_permanent_error(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, NOTIFICATIONS_URL, json={"notifications": []})

    with pytest.raises(PermanentError, match="not an array"):
        client.list_notifications(25)
    assert len(api_calls(rsps)) == 1
    assert sleeps == []


@pytest.mark.parametrize("max_result", [0, -1, "25", True, 2.5])
def test_list_notifications_validates_max_result(
    rsps: responses.RequestsMock, client: HubEEClient, max_result: object
) -> None:
    with pytest.raises(ValueError, match="max_result"):
        client.list_notifications(max_result)  # type: ignore[arg-type]
    assert len(rsps.calls) == 0


# -- deletes ----------------------------------------------------------------------------------

DELETE_URL = f"{NOTIFICATIONS_URL}/{NOTIFICATION_ID}"


def test_delete_notification(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, DELETE_URL, status=204)

    assert client.delete_notification(NOTIFICATION_ID) is None
    assert [c.request.method for c in api_calls(rsps)] == ["DELETE"]


def test_delete_notification_404_on_first_attempt_raises(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    rsps.add(
        responses.DELETE,
        DELETE_URL,
        body=error_body(404, "Notification is not found"),
        status=404,
    )

    with pytest.raises(NotFoundError, match="Notification is not found"):
        client.delete_notification(NOTIFICATION_ID)
    assert len(api_calls(rsps)) == 1


@pytest.mark.parametrize(
    "first",
    [503, requests.ReadTimeout("read timed out"), requests.ConnectionError("reset")],
    ids=["503", "read-timeout", "connection-error"],
)
def test_delete_notification_404_after_an_unclear_attempt_is_success(
    rsps: responses.RequestsMock, client: HubEEClient, first: object
) -> None:
    add_token(rsps)
    if isinstance(first, int):
        rsps.add(responses.DELETE, DELETE_URL, status=first)
    else:
        rsps.add(responses.DELETE, DELETE_URL, body=first)
    rsps.add(responses.DELETE, DELETE_URL, json={"errors": []}, status=404)

    client.delete_notification(NOTIFICATION_ID)

    assert len(api_calls(rsps, "DELETE")) == 2


@pytest.mark.parametrize(
    "first",
    [429, requests.ConnectTimeout("connect timed out")],
    ids=["429", "connect-timeout"],
)
def test_delete_notification_404_after_a_request_never_processed_raises(
    rsps: responses.RequestsMock, client: HubEEClient, first: object
) -> None:
    add_token(rsps)
    if isinstance(first, int):
        rsps.add(responses.DELETE, DELETE_URL, status=first)
    else:
        rsps.add(responses.DELETE, DELETE_URL, body=first)
    rsps.add(responses.DELETE, DELETE_URL, status=404)

    with pytest.raises(NotFoundError):
        client.delete_notification(NOTIFICATION_ID)
    assert len(api_calls(rsps, "DELETE")) == 2


def test_delete_event_404_after_500_is_success(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, EVENT_URL, status=500)
    rsps.add(responses.DELETE, EVENT_URL, status=404)

    client.delete_event(CASE_ID, EVENT_ID)

    assert len(api_calls(rsps, "DELETE")) == 2


# -- cases and events -------------------------------------------------------------------------


def test_get_case_lite_and_get_event(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=CASE)
    rsps.add(responses.GET, EVENT_URL, json=event_json(actionType="STATUS_UPDATE"))

    assert client.get_case(CASE_ID, lite=True).raw == CASE
    assert client.get_case(CASE_ID).raw == CASE
    assert client.get_event(CASE_ID, EVENT_ID).action_type == "STATUS_UPDATE"

    urls = [c.request.url for c in api_calls(rsps)]
    assert urls == [f"{CASE_URL}?lite=true", CASE_URL, EVENT_URL]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"externalId": None}, "externalId"),
        ({"processCode": None}, "processCode"),
        ({"recipient": {"type": "SI"}}, "recipient.companyRegister"),
        (
            {"attachments": [{"id": ATTACHMENT_ID, "status": "RECEIVED", "size": 3}]},
            "attachments[0].fileName",
        ),
    ],
)
def test_get_case_missing_a_required_field_names_it(
    rsps: responses.RequestsMock, client: HubEEClient, changes: dict[str, object], field: str
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=case_json(**changes))

    with pytest.raises(InvalidPayloadError) as caught:
        client.get_case(CASE_ID)

    assert caught.value.field == field
    assert caught.value.method == "GET" and caught.value.path == f"/teledossiers/v1/cases/{CASE_ID}"
    assert len(api_calls(rsps)) == 1  # a bad payload is not retried


def test_get_case_keeps_hubees_json_as_received(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    sent = case_json(applicant={"firstName": "A", "lastName": "B"}, unknownField={"x": 1})
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=sent)

    case = client.get_case(CASE_ID)

    assert case.raw == sent and case.applicant is not None and case.applicant.email is None


def test_get_case_non_object_body_is_permanent(
    rsps: responses.RequestsMock, client: HubEEClient
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=[CASE])

    with pytest.raises(PermanentError, match="object was expected"):
        client.get_case(CASE_ID)


def test_patch_case_and_event_send_the_status(
    rsps: responses.RequestsMock, client: HubEEClient, sleeps: list[float]
) -> None:
    add_token(rsps)
    rsps.add(responses.PATCH, CASE_URL, status=500)
    rsps.add(responses.PATCH, CASE_URL, status=204)
    rsps.add(responses.PATCH, EVENT_URL, status=204)

    client.patch_case(CASE_ID, "SI_RECEIVED")
    client.patch_event(CASE_ID, EVENT_ID, "RECEIVED")

    bodies = [(c.request.url, c.request.body) for c in api_calls(rsps, "PATCH")]
    assert bodies == [
        (CASE_URL, b'{"status": "SI_RECEIVED"}'),
        (CASE_URL, b'{"status": "SI_RECEIVED"}'),  # PATCH is idempotent: replayed
        (EVENT_URL, b'{"status": "RECEIVED"}'),
    ]
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    "api_url",
    [
        API_URL,
        f"{API_URL}/",
        f"{API_URL}/teledossiers/v1",
        f"{API_URL}/teledossiers/v1/",
    ],
)
def test_api_url_joined_robustly(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient], api_url: str
) -> None:
    client = make_client(api_url=api_url)
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)

    assert api_calls(rsps)[0].request.url == CASE_URL


# -- validation -------------------------------------------------------------------------------

BAD_ID = "dddddd"
INVALID_ID_CALLS: dict[str, Callable[[HubEEClient], object]] = {
    "delete_notification": lambda c: c.delete_notification(BAD_ID),
    "get_case": lambda c: c.get_case(BAD_ID),
    "get_event": lambda c: c.get_event(CASE_ID, BAD_ID),
    "patch_case": lambda c: c.patch_case(f"{CASE_ID}/../x", "SENT"),
    "patch_event": lambda c: c.patch_event(BAD_ID, EVENT_ID, "SENT"),
    "delete_event": lambda c: c.delete_event(CASE_ID, ""),
    "create_event": lambda c: c.create_event(BAD_ID, EventDraft("STATUS_UPDATE")),
    "download_case": lambda c: c.download_case_attachment(CASE_ID, BAD_ID, io.BytesIO(), None),
    "download_event": lambda c: c.download_event_attachment(
        CASE_ID, None, ATTACHMENT_ID, io.BytesIO(), None
    ),
    "upload": lambda c: c.upload_event_attachment(CASE_ID, EVENT_ID, 42, io.BytesIO(b"x"), 1),
}


@pytest.mark.parametrize("operation", sorted(INVALID_ID_CALLS))
def test_non_uuid_ids_raise_value_error_before_any_http(
    rsps: responses.RequestsMock, client: HubEEClient, operation: str
) -> None:
    with pytest.raises(ValueError, match="must be a UUID"):
        INVALID_ID_CALLS[operation](client)
    assert len(rsps.calls) == 0


def test_config_repr_hides_the_secret() -> None:
    config = HubEEConfig(
        TOKEN_URL, API_URL, CLIENT_ID, SECRET, proxies={"https": "http://u:pw@proxy:3128"}
    )
    assert SECRET not in repr(config)
    assert "pw@proxy" not in repr(config)
    assert CLIENT_ID in repr(config)


@pytest.mark.parametrize(
    "overrides",
    [
        {"api_url": "api.hubee.test"},
        {"token_url": ""},
        {"client_secret": ""},
        {"retries": -1},
        {"read_timeout": 0},
        {"application_name": "x" * 51},
    ],
)
def test_config_rejects_invalid_values(overrides: dict[str, object]) -> None:
    values: dict[str, object] = {
        "token_url": TOKEN_URL,
        "api_url": API_URL,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        **overrides,
    }
    with pytest.raises(ValueError):
        HubEEConfig(**values)  # type: ignore[arg-type]


def test_proxies_and_ca_bundle_are_passed_to_every_request(
    rsps: responses.RequestsMock, make_client: Callable[..., HubEEClient]
) -> None:
    proxies = {"https": "http://proxy.local:3128"}
    client = make_client(proxies=proxies, ca_bundle="/etc/ssl/hubee.pem")
    add_token(rsps)
    rsps.add(responses.GET, CASE_URL, json=CASE)

    client.get_case(CASE_ID)

    for call in rsps.calls:
        assert call.request.req_kwargs["verify"] == "/etc/ssl/hubee.pem"
        assert call.request.req_kwargs["proxies"]["https"] == "http://proxy.local:3128"


def test_close_and_context_manager(clock: FakeClock) -> None:
    config = HubEEConfig(TOKEN_URL, API_URL, CLIENT_ID, SECRET)
    closed: list[bool] = []
    with HubEEClient(config, monotonic=clock) as client:
        client._session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    assert closed == [True]

    shared = requests.Session()
    shared_closed: list[bool] = []
    shared.close = lambda: shared_closed.append(True)  # type: ignore[method-assign]
    HubEEClient(config, session=shared).close()
    assert shared_closed == []  # not ours to close


# -- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-01T16:24:44.521Z", datetime(2022, 3, 1, 16, 24, 44, 521000, tzinfo=UTC)),
        ("2024-07-04T08:54:15.438+00:00", datetime(2024, 7, 4, 8, 54, 15, 438000, tzinfo=UTC)),
        ("2024-07-04T10:54:15+0200", datetime(2024, 7, 4, 8, 54, 15, tzinfo=UTC)),
        ("2024-01-15T10:00:00", datetime(2024, 1, 15, 9, 0, tzinfo=UTC)),  # Paris, winter
        (None, None),
        ("", None),
        ("yesterday", None),
        (12, None),
    ],
)
def test_parse_hubee_datetime(value: object, expected: datetime | None) -> None:
    parsed = parse_hubee_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_status_update_draft() -> None:
    assert EventDraft.status_update("IN_PROGRESS", author="Mairie").to_api() == {
        "actionType": "STATUS_UPDATE",
        "author": "Mairie",
        "notification": True,
        "caseNewStatus": "IN_PROGRESS",
    }
    assert EventDraft.status_update(
        "DONE",
        author="Agent",
        message="Traité",
        comment="interne",
        current_status="IN_PROGRESS",
        notification=False,
    ).to_api() == {
        "actionType": "STATUS_UPDATE",
        "author": "Agent",
        "notification": False,
        "caseNewStatus": "DONE",
        "caseCurrentStatus": "IN_PROGRESS",
        "message": "Traité",
        "comment": "interne",
    }
    with pytest.raises(ValueError):
        EventDraft.status_update("", author="Agent")
    with pytest.raises(ValueError):
        EventDraft.status_update("DONE", author="Agent", message="x" * 1001)
