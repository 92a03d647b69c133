"""HTTP client of HubEE's API (version: API_PREFIX), as used by a Service Instructeur (SI).

It knows HTTP and HubEE's protocol only (no Django): one keep-alive session, a cached OAuth
token refreshed once on 401, timeouts on every call, retries with jittered backoff for
transient failures of idempotent calls, a read-back instead of a blind replay for POST, and
typed errors (see errors.py). No redirect is ever followed: HubEE does not redirect, and a
redirect could carry the credentials or a request to another server.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import logging
import math
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from .data import DownloadResult, Notification, require_uuid
from .errors import (
    AmbiguousEventError,
    AuthenticationError,
    BadRequestError,
    CertificateError,
    CorruptDownloadError,
    ForbiddenError,
    HubEEError,
    InvalidPayloadError,
    NotFoundError,
    PermanentError,
    Reason,
    RedirectError,
    TransientError,
    parse_error_body,
)
from .payloads import Case, Event, EventDraft, find_matching_event

logger = logging.getLogger(__name__)

# The only place of the API version: HubEE's V2 API is frozen, no other version is planned.
API_PREFIX = "/teledossiers/v1"
DEFAULT_TOKEN_LIFETIME = 3600.0
TOKEN_REFRESH_MARGIN = 60.0
CHUNK_SIZE = 256 * 1024
ERROR_BODY_LIMIT = 64 * 1024
POOL_MAXSIZE = 16
MAX_HEADER_CHARS = 50
JSON_ACCEPT = {"Accept": "application/json"}

_PERMANENT_BY_STATUS: dict[int, tuple[type[PermanentError], str]] = {
    400: (BadRequestError, "HubEE rejected the request as invalid"),
    401: (AuthenticationError, "HubEE rejected the access token"),
    403: (ForbiddenError, "HubEE denied access"),
    404: (NotFoundError, "HubEE object not found"),
}
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_ALGORITHM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


@dataclass(frozen=True)
class HubEEConfig:
    """Connection settings of one HubEE subscription (one client id per démarche)."""

    token_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    editor_name: str = ""
    application_name: str = ""
    software_version: str = ""
    retries: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    proxies: dict[str, str] | None = field(default=None, repr=False)  # may embed credentials
    ca_bundle: str | None = None
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # HubEE's upload backend allows 300 s; a big file may need that long to be acknowledged.
    upload_read_timeout: float = 300.0
    scope: str = "SI"  # an OSL (the sandbox's test sender) uses "OSL"

    def __post_init__(self) -> None:
        for name in ("token_url", "api_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
                raise ValueError(f"{name} must be an http(s) URL")
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret are required")
        for name in ("editor_name", "application_name", "software_version"):
            if len(getattr(self, name)) > MAX_HEADER_CHARS:
                raise ValueError(f"{name} exceeds HubEE's {MAX_HEADER_CHARS} characters")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError("retries must be an integer >= 0")
        for name in ("connect_timeout", "read_timeout", "upload_read_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("backoff_base and backoff_cap must be >= 0")


# Server errors after which the POST's processing is over (the application failed, or the
# gateway lost it). A 504 or a timeout say the application may still be working on it.
SETTLED_SERVER_ERRORS = frozenset({500, 502, 503})


@dataclass
class HubEEStats:
    """Counters of one client. `calls` counts every HTTP request sent, token ones included."""

    calls: int = 0
    token_requests: int = 0
    retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class _CallState:
    """What one logical call has spent so far, across its attempts."""

    max_retries: int
    retries_used: int = 0
    auth_refreshed: bool = False
    # An earlier attempt may have been processed by HubEE (timeout, 5xx, dropped connection).
    ambiguous: bool = False


class HubEEClient:
    """Client of one HubEE subscription; safe to share between threads."""

    def __init__(
        self,
        config: HubEEConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter only
        self._owns_session = session is None
        self._session = session if session is not None else self._new_session(config)
        self._api_base = _api_base(config.api_url)
        self._token_path = urlsplit(config.token_url).path or "/"
        self._base_headers = {
            name: value
            for name, value in (
                ("editorName", config.editor_name),
                ("applicationName", config.application_name),
                ("softwareVersion", config.software_version),
            )
            if value
        }
        # Per-request values: requests lets environment variables override session.verify.
        self._request_options: dict[str, Any] = {}
        if config.proxies is not None:
            self._request_options["proxies"] = dict(config.proxies)
        if config.ca_bundle:
            self._request_options["verify"] = config.ca_bundle
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._stats_lock = threading.Lock()
        self._stats = HubEEStats()

    @staticmethod
    def _new_session(config: HubEEConfig) -> requests.Session:
        session = requests.Session()
        # Retries are ours (they know which calls are idempotent): none in urllib3.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        if config.proxies:
            session.proxies.update(config.proxies)
        if config.ca_bundle:
            session.verify = config.ca_bundle
        return session

    # -- lifecycle and counters -------------------------------------------------------------

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> HubEEClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> HubEEStats:
        """A snapshot of the counters."""
        with self._stats_lock:
            return replace(self._stats)

    def _count(self, *, calls: int = 0, token_requests: int = 0, retries: int = 0) -> None:
        with self._stats_lock:
            self._stats.calls += calls
            self._stats.token_requests += token_requests
            self._stats.retries += retries

    # -- token ------------------------------------------------------------------------------

    def _access_token(self) -> str:
        # The lock also makes concurrent threads wait for one fetch instead of each fetching.
        with self._token_lock:
            if self._token is not None and self._monotonic() < self._token_expires_at:
                return self._token
            self._token = None
            started = self._monotonic()
            token, lifetime = self._request_token()
            margin = min(TOKEN_REFRESH_MARGIN, lifetime * 0.1)
            self._token = token
            self._token_expires_at = started + lifetime - margin
            return token

    def check_credentials(self) -> float:
        """Ask HubEE for a new token now (the admin's connection test); its lifetime in s."""
        with self._token_lock:
            self._token = None
            started = self._monotonic()
            token, lifetime = self._request_token()
            self._token = token
            self._token_expires_at = started + lifetime - min(TOKEN_REFRESH_MARGIN, lifetime * 0.1)
            return lifetime

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            # Another thread may already hold a fresh one: keep it.
            if self._token == token:
                self._token = None

    def _request_token(self) -> tuple[str, float]:
        method, path = "POST", self._token_path
        self._count(calls=1, token_requests=1)
        try:
            response = self._session.post(
                self.config.token_url,
                auth=(self.config.client_id, self.config.client_secret),
                data={"scope": self.config.scope, "grant_type": "client_credentials"},
                headers={**self._base_headers, **JSON_ACCEPT},
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                allow_redirects=False,
                **self._request_options,
            )
        except requests.RequestException as exc:
            error = self._network_error(exc, method, path)
            if isinstance(error, TransientError):
                error.ambiguous = False  # the API call itself was not sent
            raise error from exc
        with response:
            status = response.status_code
            if status in (400, 401):
                code, message = parse_error_body(_error_text(response))
                logger.error("HubEE token request rejected (HTTP %s)", status)
                raise AuthenticationError(
                    "HubEE rejected the client credentials",
                    method=method,
                    path=path,
                    status_code=status,
                    code=code,
                    hubee_message=message,
                )
            if not 200 <= status < 300:
                error = self._http_error(response, method, path)
                if isinstance(error, TransientError):
                    error.ambiguous = False
                raise error
            try:
                data = response.json()
            except ValueError:
                data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise PermanentError(
                "HubEE token response has no access_token",
                method=method,
                path=path,
                status_code=status,
                reason=Reason.NO_TOKEN,
            )
        lifetime = _token_lifetime(data.get("expires_in"))
        logger.info("HubEE token obtained, valid %d s", int(lifetime))
        return token, lifetime

    # -- request machinery ------------------------------------------------------------------

    def _new_state(self, max_retries: int | None = None) -> _CallState:
        return _CallState(self.config.retries if max_retries is None else max_retries)

    def _attempt(
        self,
        state: _CallState,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> requests.Response:
        """One attempt (plus one replay after a token refresh); a 2xx response or an error."""
        url = self._api_base + API_PREFIX + path
        full_path = API_PREFIX + path
        timeout = (self.config.connect_timeout, read_timeout or self.config.read_timeout)
        while True:
            token = self._access_token()
            request_headers = {
                **self._base_headers,
                **(headers or {}),
                "Authorization": f"Bearer {token}",
            }
            self._count(calls=1)
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=body() if body is not None else None,
                    headers=request_headers,
                    stream=stream,
                    timeout=timeout,
                    allow_redirects=False,
                    **self._request_options,
                )
            except requests.RequestException as exc:
                raise self._network_error(exc, method, full_path) from exc
            status = response.status_code
            logger.debug("HubEE %s %s -> HTTP %s", method, full_path, status)
            if 200 <= status < 300:
                return response
            if status == 401 and not state.auth_refreshed:
                # Expired or revoked token (WSO2 code 900901): one fresh token, one replay.
                response.close()
                state.auth_refreshed = True
                self._drop_token(token)
                logger.info("HubEE %s %s: token rejected, fetching a new one", method, full_path)
                continue
            with response:
                raise self._http_error(response, method, full_path)

    def _call(self, state: _CallState, method: str, path: str, **kwargs: Any) -> requests.Response:
        """`_attempt` retried on transient failures; only for idempotent requests."""
        while True:
            try:
                return self._attempt(state, method, path, **kwargs)
            except TransientError as error:
                state.ambiguous = state.ambiguous or error.ambiguous
                self._before_retry(state, error)

    def _before_retry(self, state: _CallState, error: HubEEError) -> None:
        """Sleep before the next attempt, or raise `error` when the budget is spent."""
        if state.retries_used >= state.max_retries:
            raise error
        delay = self._retry_delay(state.retries_used, error)
        state.retries_used += 1
        self._count(retries=1)
        logger.warning(
            "HubEE %s %s failed (%s, HTTP %s), retry %d/%d in %.2f s",
            error.method,
            error.path,
            type(error).__name__,
            error.status_code,
            state.retries_used,
            state.max_retries,
            delay,
        )
        self._sleep(delay)

    def _retry_delay(self, attempt: int, error: HubEEError) -> float:
        cap = self.config.backoff_cap
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(cap, error.retry_after)
        # Full jitter: spreads out clients that failed together.
        return self._rng.uniform(0, min(cap, self.config.backoff_base * 2 ** min(attempt, 32)))

    def _network_error(self, exc: requests.RequestException, method: str, path: str) -> HubEEError:
        name = type(exc).__name__
        detail = _short(str(exc), 300)
        if isinstance(exc, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" in detail:
            return CertificateError(
                f"HubEE TLS certificate not trusted ({name}: {detail})", method=method, path=path
            )
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return TransientError(
                f"HubEE unreachable ({name}: {detail})",
                ambiguous=_may_have_been_sent(exc),
                method=method,
                path=path,
                reason=_network_reason(exc),
            )
        return PermanentError(f"HubEE request failed ({name}: {detail})", method=method, path=path)

    def _http_error(self, response: requests.Response, method: str, path: str) -> HubEEError:
        status = response.status_code
        code, message = parse_error_body(_error_text(response))
        details: dict[str, Any] = {
            "method": method,
            "path": path,
            "status_code": status,
            "code": code,
            "hubee_message": message,
        }
        logger.info("HubEE %s %s -> HTTP %s (code %s)", method, path, status, code)
        retry_after = _parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        if status == 429:
            # Throttled before processing: safe to send again, even a POST.
            return TransientError(
                "HubEE throttled the request",
                ambiguous=False,
                retry_after=retry_after,
                reason=Reason.THROTTLED,
                **details,
            )
        if status >= 500:
            return TransientError(
                "HubEE server error",
                ambiguous=True,
                retry_after=retry_after,
                reason=Reason.SERVER,
                **details,
            )
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("Location") or "")
            logger.warning(
                "HubEE %s %s -> HTTP %s, redirect to %s not followed",
                method,
                path,
                status,
                f"{target.scheme}://{target.netloc}" if target.netloc else "(same server)",
            )
            return RedirectError("HubEE answered with a redirect, not followed", **details)
        error_class, summary = _PERMANENT_BY_STATUS.get(
            status, (PermanentError, "HubEE refused the request")
        )
        if error_class is PermanentError:
            return PermanentError(summary, reason=Reason.HTTP_ERROR, **details)
        return error_class(summary, **details)

    def _json(self, response: requests.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise PermanentError(
                "HubEE answered with invalid JSON",
                method=method,
                path=API_PREFIX + path,
                status_code=response.status_code,
                reason=Reason.INVALID_RESPONSE,
            ) from exc

    def _get_object(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = self._call(self._new_state(), "GET", path, params=params, headers=JSON_ACCEPT)
        data = self._json(response, "GET", path)
        if not isinstance(data, dict):
            raise PermanentError(
                f"HubEE answered a JSON {type(data).__name__} where an object was expected",
                method="GET",
                path=API_PREFIX + path,
                status_code=response.status_code,
                reason=Reason.INVALID_RESPONSE,
            )
        return data

    def _delete(self, path: str) -> None:
        state = self._new_state()
        try:
            self._call(state, "DELETE", path).close()
        except NotFoundError:
            # A lost answer to an earlier attempt: it was done then.
            if not state.ambiguous:
                raise
            logger.info("HubEE DELETE %s%s: 404 after an unclear attempt, done", API_PREFIX, path)

    # -- notifications ----------------------------------------------------------------------

    def list_notifications(
        self,
        max_result: int,
        event_details: bool = True,
        process_codes: list[str] | None = None,
    ) -> list[Notification]:
        """GET /notifications: up to max_result notifications; malformed items are skipped."""
        if isinstance(max_result, bool) or not isinstance(max_result, int) or max_result < 1:
            raise ValueError("max_result must be a positive integer")
        params: list[tuple[str, str]] = [("maxResult", str(max_result))]
        if event_details:
            params.append(("eventDetails", "true"))
        for process_code in process_codes or ():
            if not isinstance(process_code, str) or not process_code:
                raise ValueError("process codes must be non-empty strings")
            params.append(("processCode", process_code))
        path = "/notifications"
        response = self._call(self._new_state(), "GET", path, params=params, headers=JSON_ACCEPT)
        data = self._json(response, "GET", path)
        if not isinstance(data, list):
            raise PermanentError(
                f"HubEE notifications list is a JSON {type(data).__name__}, not an array",
                method="GET",
                path=API_PREFIX + path,
                status_code=response.status_code,
                reason=Reason.INVALID_RESPONSE,
            )
        notifications: list[Notification] = []
        for index, item in enumerate(data):
            try:
                notifications.append(Notification.from_api(item))
            except ValueError as exc:
                # One bad item must not hide the others.
                logger.warning("HubEE notification #%d skipped: %s", index, exc)
        return notifications

    def delete_notification(self, notification_id: str) -> None:
        """DELETE /notifications/{id}; a 404 after an unclear first attempt counts as done."""
        notification_id = require_uuid(notification_id, "notification_id")
        self._delete(f"/notifications/{notification_id}")

    # -- cases and events -------------------------------------------------------------------

    def get_case(self, case_id: str, lite: bool = False) -> Case:
        """GET /cases/{id}; `lite` asks HubEE for its lighter version. InvalidPayloadError
        when the case lacks a field the API requires."""
        case_id = require_uuid(case_id, "case_id")
        path = f"/cases/{case_id}"
        return self._typed(
            Case.from_api, self._get_object(path, {"lite": "true"} if lite else None), path
        )

    def get_event(self, case_id: str, event_id: str) -> Event:
        """GET /cases/{caseId}/events/{eventId}."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        path = f"/cases/{case_id}/events/{event_id}"
        return self._typed(Event.from_api, self._get_object(path), path)

    @staticmethod
    def _typed(parse: Callable[[object], _Payload], data: object, path: str) -> _Payload:
        try:
            return parse(data)
        except InvalidPayloadError as exc:
            # Named after the call, like any other error of the client.
            exc.method, exc.path = "GET", API_PREFIX + path
            raise

    def patch_case(self, case_id: str, status: str) -> None:
        """PATCH /cases/{id} {"status": status}."""
        case_id = require_uuid(case_id, "case_id")
        self._patch(f"/cases/{case_id}", status)

    def patch_event(self, case_id: str, event_id: str, status: str) -> None:
        """PATCH /cases/{caseId}/events/{eventId} {"status": status} (RECEIVED or SENT)."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        self._patch(f"/cases/{case_id}/events/{event_id}", status)

    def _patch(self, path: str, status: str) -> None:
        if not isinstance(status, str) or not status:
            raise ValueError("status must be a non-empty string")
        self._call(self._new_state(), "PATCH", path, json_body={"status": status}).close()

    def delete_event(self, case_id: str, event_id: str) -> None:
        """DELETE /cases/{caseId}/events/{eventId}: cancel our own IN_PROGRESS deposit."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        self._delete(f"/cases/{case_id}/events/{event_id}")

    def create_event(
        self,
        case_id: str,
        draft: EventDraft,
        *,
        known_event_ids: Iterable[str] = (),
    ) -> Event:
        """POST /cases/{id}/events and return the created event.

        Never replayed blindly: after a failure that HubEE may have processed, the case is read
        back and an event matching ours that is not in `known_event_ids` (the case's events
        before the call) is taken as ours. Raises AmbiguousEventError when that check fails.
        """
        case_id = require_uuid(case_id, "case_id")
        if not isinstance(draft, EventDraft) or not draft.action_type:
            raise ValueError("draft must be an EventDraft with an action type")
        payload = draft.to_api()
        known = {str(event_id).lower() for event_id in known_event_ids}
        path = f"/cases/{case_id}/events"
        state = self._new_state()
        while True:
            try:
                response = self._attempt(
                    state, "POST", path, json_body=payload, headers=JSON_ACCEPT
                )
            except TransientError as error:
                if not error.ambiguous:
                    # Throttled, never connected or no token: HubEE did not process it.
                    self._before_retry(state, error)
                    continue
                # Without an answer (timeout, connection cut, gateway error) HubEE may still be
                # processing the POST after our read-back: never resend it in this call.
                settled = error.status_code in SETTLED_SERVER_ERRORS
                exhausted = not settled or state.retries_used >= state.max_retries
                if not exhausted:
                    self._before_retry(state, error)  # also gives HubEE time to settle
                found = self._find_created_event(
                    case_id, draft, known, error, state.max_retries - state.retries_used
                )
                if found is not None:
                    return found
                if exhausted:
                    # Answered, and not on the case: HubEE did not create it (safe to resend).
                    error.ambiguous = not settled
                    raise
                logger.info("HubEE POST %s%s: event not created, sending again", API_PREFIX, path)
                continue
            with response:
                try:
                    created = response.json()
                except ValueError:
                    created = None
            event = _created_event(created)
            if event is not None:
                logger.info("HubEE event %s created on case %s", event.id, case_id)
                return event
            # Created, but the answer is unusable: find the event in the case instead.
            unreadable = AmbiguousEventError(
                "HubEE created the event but its answer is unreadable",
                method="POST",
                path=API_PREFIX + path,
                status_code=response.status_code,
            )
            found = self._find_created_event(case_id, draft, known, unreadable, self.config.retries)
            if found is None:
                raise unreadable
            return found

    def _find_created_event(
        self,
        case_id: str,
        draft: EventDraft,
        known: set[str],
        cause: HubEEError,
        retries: int,
    ) -> Event | None:
        events_path = f"{API_PREFIX}/cases/{case_id}/events"
        try:
            response = self._call(
                self._new_state(retries), "GET", f"/cases/{case_id}", headers=JSON_ACCEPT
            )
            case = self._json(response, "GET", f"/cases/{case_id}")
        except HubEEError as exc:
            logger.error("HubEE POST %s: outcome unknown, case read-back failed", events_path)
            raise AmbiguousEventError(
                f"HubEE may have created the event; reading the case back failed ({exc})",
                method="POST",
                path=events_path,
                status_code=cause.status_code,
                code=cause.code,
                hubee_message=cause.hubee_message,
            ) from exc
        try:
            events = Case.from_api(case).events if isinstance(case, dict) else None
        except InvalidPayloadError as exc:
            raise AmbiguousEventError(
                f"HubEE may have created the event; the case read back is unusable ({exc})",
                method="POST",
                path=events_path,
                status_code=cause.status_code,
            ) from exc
        if events is None or not isinstance(case.get("events"), list):
            raise AmbiguousEventError(
                "HubEE may have created the event; the case read back has no events list",
                method="POST",
                path=events_path,
                status_code=cause.status_code,
            )
        found = find_matching_event(events, draft, self.config.application_name, known)
        if found is not None:
            logger.info("HubEE POST %s: event %s found on read-back", events_path, found.id)
        return found

    # -- attachments ------------------------------------------------------------------------

    def download_case_attachment(
        self,
        case_id: str,
        attachment_id: str,
        fileobj: IO[bytes],
        expected_size: int | None,
    ) -> DownloadResult:
        """Stream GET /cases/{caseId}/attachments/{id} into fileobj (overwritten from 0)."""
        case_id = require_uuid(case_id, "case_id")
        attachment_id = require_uuid(attachment_id, "attachment_id")
        path = f"/cases/{case_id}/attachments/{attachment_id}"
        return self._download(path, fileobj, expected_size)

    def download_event_attachment(
        self,
        case_id: str,
        event_id: str,
        attachment_id: str,
        fileobj: IO[bytes],
        expected_size: int | None,
    ) -> DownloadResult:
        """Stream GET /cases/{caseId}/events/{eventId}/attachments/{id} into fileobj."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        attachment_id = require_uuid(attachment_id, "attachment_id")
        path = f"/cases/{case_id}/events/{event_id}/attachments/{attachment_id}"
        return self._download(path, fileobj, expected_size)

    def _download(self, path: str, fileobj: IO[bytes], expected_size: int | None) -> DownloadResult:
        if expected_size is not None and not _is_size(expected_size):
            raise ValueError("expected_size must be None or an integer >= 0")
        state = self._new_state()
        while True:
            _rewind(fileobj)
            response = self._call(state, "GET", path, stream=True)
            try:
                with response:
                    return self._receive(response, fileobj, expected_size, API_PREFIX + path)
            except TransientError as error:
                _rewind(fileobj)  # never leave a bad or partial file behind
                self._before_retry(state, error)

    def _receive(
        self,
        response: requests.Response,
        fileobj: IO[bytes],
        expected_size: int | None,
        path: str,
    ) -> DownloadResult:
        hasher = hashlib.sha256()
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                if not chunk:
                    continue
                fileobj.write(chunk)
                hasher.update(chunk)
                size += len(chunk)
                if expected_size is not None and size > expected_size:
                    break  # already wrong: do not fetch the rest
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            requests.ConnectionError,
            requests.Timeout,
        ) as exc:
            raise TransientError(
                f"HubEE download interrupted after {size} bytes ({type(exc).__name__})",
                method="GET",
                path=path,
                status_code=response.status_code,
                reason=Reason.TIMEOUT if isinstance(exc, requests.Timeout) else Reason.NETWORK,
            ) from exc
        actual_b64 = base64.b64encode(hasher.digest()).decode("ascii")
        header = response.headers.get("digest")
        expected_digest = _expected_sha256(header) if header else None
        size_ok = expected_size is None or size == expected_size
        digest_ok = expected_digest is None or _digest_equal(expected_digest, hasher)
        if not (size_ok and digest_ok):
            raise CorruptDownloadError(
                "HubEE file failed its integrity check",
                method="GET",
                path=path,
                status_code=response.status_code,
                expected_size=expected_size,
                actual_size=size,
                expected_digest=expected_digest,
                actual_digest=actual_b64,
            )
        if header and expected_digest is None:
            logger.warning("HubEE GET %s: digest header without SHA-256, not checked", path)
        checked = expected_digest is not None
        logger.debug("HubEE GET %s: %d bytes, digest checked: %s", path, size, checked)
        return DownloadResult(size=size, sha256_hex=hasher.hexdigest(), digest_checked=checked)

    def upload_event_attachment(
        self,
        case_id: str,
        event_id: str,
        attachment_id: str,
        fileobj: IO[bytes],
        size: int,
        sha256_b64: str | None = None,
    ) -> None:
        """PUT /cases/{caseId}/events/{eventId}/attachments/{id}, streamed from fileobj."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        attachment_id = require_uuid(attachment_id, "attachment_id")
        if not _is_size(size):
            raise ValueError("size must be an integer >= 0")
        if sha256_b64 is not None:
            _check_sha256_b64(sha256_b64)
        fileobj.seek(0, 2)
        actual = fileobj.tell()
        fileobj.seek(0)
        if actual != size:
            # HubEE would answer 400 anyway; say it before sending the bytes.
            raise ValueError(f"the file holds {actual} bytes but {size} are declared")
        headers = {"Content-Type": "application/octet-stream"}
        if sha256_b64:
            headers["digest"] = sha256_b64

        def body() -> Any:
            # Every attempt (retry or token replay) sends the file from its start.
            fileobj.seek(0)
            return fileobj if size else b""

        path = f"/cases/{case_id}/events/{event_id}/attachments/{attachment_id}"
        response = self._call(
            self._new_state(),
            "PUT",
            path,
            body=body,
            headers=headers,
            read_timeout=max(self.config.read_timeout, self.config.upload_read_timeout),
        )
        response.close()


_Payload = TypeVar("_Payload", Case, Event)


def _created_event(data: object) -> Event | None:
    """The event HubEE answered a POST with; None when the answer is not usable as one."""
    try:
        return Event.from_api(data)
    except InvalidPayloadError:
        return None


def _api_base(api_url: str) -> str:
    base = api_url.rstrip("/")
    # Tolerate a configured URL that already ends with the API prefix.
    if base.endswith(API_PREFIX):
        base = base[: -len(API_PREFIX)]
    return base


def _token_lifetime(value: Any) -> float:
    try:
        lifetime = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME
    if not math.isfinite(lifetime) or lifetime <= 0:
        return DEFAULT_TOKEN_LIFETIME
    return lifetime


def _may_have_been_sent(exc: requests.RequestException) -> bool:
    """False only when the request surely never left (connect timeout, refused, DNS)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return not isinstance(reason, NewConnectionError)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (requests → urllib3 → socket), nearest first."""
    found: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(found) < 20:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        todo.extend(item.args[:1])
        todo.extend((getattr(item, "reason", None), item.__cause__, item.__context__))
    return found


def _network_reason(exc: requests.RequestException) -> Reason:
    """What kind of connection failure this is. The admin page gives these one sentence (no
    port-scan oracle); the sync journal and the logs may tell them apart."""
    if isinstance(exc, requests.exceptions.ProxyError):
        return Reason.PROXY
    if isinstance(exc, requests.Timeout):
        return Reason.TIMEOUT
    causes = _causes(exc)
    if any(isinstance(cause, NameResolutionError | socket.gaierror) for cause in causes):
        return Reason.DNS
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return Reason.REFUSED
    return Reason.NETWORK


def _parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP-date); None if unusable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _error_text(response: requests.Response) -> str:
    # Bounded read: an error body is small, but a streamed response could be anything.
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_content(chunk_size=8192):
            chunks.append(chunk)
            total += len(chunk)
            if total >= ERROR_BODY_LIMIT:
                break
    except (requests.RequestException, RuntimeError):
        pass  # the status code is what matters; the body is a bonus
    return b"".join(chunks)[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace")


def _expected_sha256(header: str) -> str | None:
    """The SHA-256 value of a digest header: plain base64, or `SHA-256=<base64>` (any case)."""
    for part in header.split(","):
        value = part.strip()
        if not value:
            continue
        algorithm, sep, rest = value.partition("=")
        if sep and rest and _ALGORITHM_RE.match(algorithm):
            if algorithm.lower() in ("sha-256", "sha256"):
                return rest.strip()
            continue  # another algorithm (RFC 3230 lists): not checkable here
        return value  # plain base64 ends with '=' only as padding
    return None


def _digest_equal(expected: str, hasher: Any) -> bool:
    if expected == base64.b64encode(hasher.digest()).decode("ascii"):
        return True
    # Tolerate a hex digest, in case HubEE ever sends one.
    return bool(_HEX64_RE.match(expected)) and expected.lower() == hasher.hexdigest()


def _check_sha256_b64(value: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("sha256_b64 must be base64") from exc
    if len(raw) != 32:
        raise ValueError("sha256_b64 must encode 32 bytes")


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rewind(fileobj: IO[bytes]) -> None:
    fileobj.seek(0)
    fileobj.truncate()


def _short(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
