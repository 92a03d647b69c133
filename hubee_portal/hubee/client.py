"""HTTP client of HubEE's API (version: API_PREFIX), as used by a Service Instructeur (SI).

It knows HTTP and HubEE's protocol only (no Django). `HubEEClient` holds the API's calls and
the read-back that replaces a blind replay of a POST (`create_event`); the machinery is beside
it: transport.py (session, token on every request, retries with jittered backoff for
idempotent calls), tokens.py (the cached OAuth token), http_errors.py (failures turned into
the typed errors of errors.py) and transfers.py (checked downloads, uploads).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import IO, TypeVar

import requests

from .config import HubEEConfig
from .data import DownloadResult, Notification, NotificationList, require_uuid
from .errors import (
    AmbiguousEventError,
    HubEEError,
    InvalidPayloadError,
    PermanentError,
    Reason,
    TransientError,
)
from .payloads import Case, Event, EventDraft, find_matching_event
from .tokens import TokenStore
from .transfers import download, upload
from .transport import JSON_ACCEPT, HubEEStats, Transport, new_session

__all__ = ["API_PREFIX", "HubEEClient", "HubEEConfig", "HubEEStats"]

logger = logging.getLogger(__name__)

# The only place of the API version: HubEE's V2 API is frozen, no other version is planned.
API_PREFIX = "/teledossiers/v1"

# Server errors after which the POST's processing is over (the application failed, or the
# gateway lost it). A 504 or a timeout say the application may still be working on it.
SETTLED_SERVER_ERRORS = frozenset({500, 502, 503})


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
        token_store: TokenStore | None = None,
        token_key: str = "",
    ) -> None:
        """`session`: shared by the clients of one HubEE (their tokens differ, not their
        connections); `token_store` and `token_key`: the token shared between processes."""
        self.config = config
        self._owns_session = session is None
        self._session = session if session is not None else new_session(config)
        self._transport = Transport(
            config,
            self._session,
            api_prefix=API_PREFIX,
            sleep=sleep,
            monotonic=monotonic,
            rng=rng if rng is not None else random.Random(),  # noqa: S311 - jitter only
            token_store=token_store,
            token_key=token_key,
        )

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
        return self._transport.stats

    def check_credentials(self) -> float:
        """Ask HubEE for a new token now (the admin's connection test); its lifetime in s."""
        return self._transport.tokens.renew()

    # -- notifications ----------------------------------------------------------------------

    def list_notifications(
        self,
        max_result: int,
        event_details: bool = True,
        process_codes: list[str] | None = None,
        *,
        retries: int | None = None,
    ) -> NotificationList:
        """GET /notifications: up to max_result notifications; malformed items are skipped,
        and counted in the list's `skipped`. `retries`: the connection's by default; 0 for a
        poll among many, which must not sleep on a 429 (its caller pauses instead)."""
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
        data = self._transport.get_json(path, params, retries=retries)
        if not isinstance(data, list):
            raise PermanentError(
                f"HubEE notifications list is a JSON {type(data).__name__}, not an array",
                method="GET",
                path=API_PREFIX + path,
                status_code=200,
                reason=Reason.INVALID_RESPONSE,
            )
        notifications = NotificationList()
        for index, item in enumerate(data):
            try:
                notifications.append(Notification.from_api(item))
            except ValueError as exc:
                # One bad item must not hide the others.
                logger.warning("HubEE notification #%d skipped: %s", index, exc)
                notifications.skipped += 1
        return notifications

    def delete_notification(self, notification_id: str) -> None:
        """DELETE /notifications/{id}; a 404 after an unclear first attempt counts as done."""
        notification_id = require_uuid(notification_id, "notification_id")
        self._transport.delete(f"/notifications/{notification_id}")

    # -- cases and events -------------------------------------------------------------------

    def get_case(self, case_id: str, lite: bool = False) -> Case:
        """GET /cases/{id}; `lite` asks HubEE for its lighter version. InvalidPayloadError
        when the case lacks a field the API requires."""
        case_id = require_uuid(case_id, "case_id")
        path = f"/cases/{case_id}"
        return self._typed(
            Case.from_api,
            self._transport.get_object(path, {"lite": "true"} if lite else None),
            path,
        )

    def get_event(self, case_id: str, event_id: str) -> Event:
        """GET /cases/{caseId}/events/{eventId}."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        path = f"/cases/{case_id}/events/{event_id}"
        return self._typed(Event.from_api, self._transport.get_object(path), path)

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
        self._transport.call(
            self._transport.new_state(), "PATCH", path, json_body={"status": status}
        ).close()

    def delete_event(self, case_id: str, event_id: str) -> None:
        """DELETE /cases/{caseId}/events/{eventId}: cancel our own IN_PROGRESS deposit."""
        case_id = require_uuid(case_id, "case_id")
        event_id = require_uuid(event_id, "event_id")
        self._transport.delete(f"/cases/{case_id}/events/{event_id}")

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
        state = self._transport.new_state()
        while True:
            try:
                response = self._transport.attempt(
                    state, "POST", path, json_body=payload, headers=JSON_ACCEPT, stream=True
                )
            except TransientError as error:
                if not error.ambiguous:
                    # Throttled, never connected or no token: HubEE did not process it.
                    self._transport.before_retry(state, error)
                    continue
                # Without an answer (timeout, connection cut, gateway error) HubEE may still be
                # processing the POST after our read-back: never resend it in this call.
                settled = error.status_code in SETTLED_SERVER_ERRORS
                exhausted = not settled or state.retries_used >= state.max_retries
                if not exhausted:
                    self._transport.before_retry(state, error)  # also gives HubEE time to settle
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
                    created = self._transport.read_json(response, "POST", path)
                except HubEEError:
                    created = None  # unreadable or over the bound: read back below
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
            response = self._transport.call(
                self._transport.new_state(retries),
                "GET",
                f"/cases/{case_id}",
                headers=JSON_ACCEPT,
                stream=True,
            )
            with response:
                case = self._transport.read_json(response, "GET", f"/cases/{case_id}")
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
        return download(self._transport, path, fileobj, expected_size)

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
        return download(self._transport, path, fileobj, expected_size)

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
        path = f"/cases/{case_id}/events/{event_id}/attachments/{attachment_id}"
        upload(self._transport, path, fileobj, size, sha256_b64)


_Payload = TypeVar("_Payload", Case, Event)


def _created_event(data: object) -> Event | None:
    """The event HubEE answered a POST with; None when the answer is not usable as one."""
    try:
        return Event.from_api(data)
    except InvalidPayloadError:
        return None
