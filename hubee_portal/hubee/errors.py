"""Typed errors of the HubEE client.

Each error says whether retrying may help (`transient`), so callers (the sync job) can tell a
failure to retry later from one to record and give up on.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

MAX_MESSAGE_CHARS = 500


class Reason(StrEnum):
    """Why an exchange failed, set where the error is raised: callers switch on it instead of
    matching classes or message text."""

    CREDENTIALS = "credentials"  # token call refused (400/401), or 401 after a fresh token
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    BAD_REQUEST = "bad_request"  # 400
    HTTP_ERROR = "http_error"  # any other 4xx
    REDIRECT = "redirect"  # 3xx, never followed
    TLS = "tls"  # the server's certificate is not trusted
    PROXY = "proxy"  # the outgoing proxy failed or refused
    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # the connection was refused
    TIMEOUT = "timeout"  # connect or read timeout
    NETWORK = "network"  # any other connection failure (reset, cut download…)
    THROTTLED = "throttled"  # 429
    SERVER = "server"  # 5xx
    NO_TOKEN = "no_token"  # noqa: S105 - a 2xx token answer without access_token
    INVALID_RESPONSE = "invalid_response"  # not JSON, or not the JSON shape expected
    INVALID_PAYLOAD = "invalid_payload"  # a HubEE object without a field the API requires
    CORRUPT_DOWNLOAD = "corrupt_download"  # size or digest check failed
    TOO_LARGE = "too_large"  # a JSON answer or a file over its configured maximum
    AMBIGUOUS = "ambiguous"  # an event creation may or may not have happened
    UNEXPECTED = "unexpected"


class HubEEError(Exception):
    """A failed exchange with HubEE.

    `path` never holds the host nor the query string; `hubee_message` is the text of HubEE's
    error body (it may echo request data, so callers should not log it blindly).
    """

    default_transient: bool = False
    # The class's usual reason; also what an error pickled before `reason` existed reads.
    reason: Reason = Reason.UNEXPECTED

    def __init__(
        self,
        summary: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        code: int | None = None,
        hubee_message: str | None = None,
        transient: bool | None = None,
        reason: Reason | None = None,
    ) -> None:
        self.summary = summary
        if reason is not None:
            self.reason = reason
        self.method = method
        self.path = path
        self.status_code = status_code
        self.code = code
        self.hubee_message = hubee_message
        self.transient = self.default_transient if transient is None else transient
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = self.summary
        if self.method or self.path:
            text += f": {self.method or '?'} {self.path or '?'}"
        if self.status_code is not None:
            text += f" -> HTTP {self.status_code}"
        if self.code is not None and self.code != self.status_code:
            text += f" (HubEE code {self.code})"
        if self.hubee_message:
            text += f": {_one_line(self.hubee_message)}"
        return text

    def __str__(self) -> str:
        return self._describe()

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ does not survive the default pickling (task queues pickle).
        return (_restore_error, (type(self), self.__dict__.copy()))


def _restore_error(cls: type[HubEEError], state: dict[str, Any]) -> HubEEError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._describe())
    return error


class TransientError(HubEEError):
    """Worth retrying later: network failure, timeout, 429, 5xx.

    `ambiguous` is True when the request may have reached HubEE and been processed (read
    timeout, 5xx, connection dropped after sending); `retry_after` is the delay HubEE asked
    for, in seconds.
    """

    default_transient = True

    def __init__(
        self,
        summary: str,
        *,
        ambiguous: bool = True,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        super().__init__(summary, **kwargs)


class PermanentError(HubEEError):
    """Retrying the same request will fail the same way."""

    default_transient = False


class AuthenticationError(PermanentError):
    """Credentials or access token rejected (401, or 400 on the token call)."""

    reason = Reason.CREDENTIALS


class ForbiddenError(PermanentError):
    """403: the object belongs to another SI or démarche."""

    reason = Reason.FORBIDDEN


class NotFoundError(PermanentError):
    """404: unknown, deleted or purged object."""

    reason = Reason.NOT_FOUND


class BadRequestError(PermanentError):
    """400: the request does not match HubEE's contract or rules."""

    reason = Reason.BAD_REQUEST


class RedirectError(PermanentError):
    """3xx: HubEE never redirects, and a redirect is never followed (it could take the
    credentials, or the request, to another server)."""

    reason = Reason.REDIRECT


class CertificateError(PermanentError):
    """HubEE's TLS certificate is not trusted (CA bundle, TLS-inspecting proxy)."""

    reason = Reason.TLS


class CorruptDownloadError(TransientError):
    """A downloaded file kept failing its size or digest check."""

    reason = Reason.CORRUPT_DOWNLOAD

    def __init__(
        self,
        summary: str,
        *,
        expected_size: int | None = None,
        actual_size: int | None = None,
        expected_digest: str | None = None,
        actual_digest: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.expected_size = expected_size
        self.actual_size = actual_size
        self.expected_digest = expected_digest
        self.actual_digest = actual_digest
        kwargs.setdefault("ambiguous", False)
        super().__init__(summary, **kwargs)

    def _describe(self) -> str:
        text = super()._describe()
        if self.expected_size is not None and self.expected_size != self.actual_size:
            text += f" (size {self.actual_size}, expected {self.expected_size})"
        if self.expected_digest is not None and self.expected_digest != self.actual_digest:
            text += f" (sha-256 {self.actual_digest}, expected {self.expected_digest})"
        return text


class TooLargeError(PermanentError):
    """A JSON answer or a file over its maximum (`limit`, in bytes): not read past it. Its
    summary is French: it is what the journal of the call keeps."""

    reason = Reason.TOO_LARGE

    def __init__(self, summary: str, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(summary, **kwargs)


def size_in_words(count: int) -> str:
    """« 4 Mio », or « 1500 octets » when not a whole number of MiB."""
    mib = 1024 * 1024
    if count >= mib and count % mib == 0:
        return f"{count // mib} Mio"
    return f"{count} octets"


class AmbiguousEventError(TransientError):
    """An event creation may or may not have happened and the case could not be read back.

    Do not re-send blindly: read the case history first.
    """

    reason = Reason.AMBIGUOUS


class InvalidPayloadError(PermanentError):
    """A HubEE object lacks a field the API requires, or holds one of the wrong type; `field`
    names it (dotted path, e.g. `events[0].transmitter.type`)."""

    reason = Reason.INVALID_PAYLOAD

    def __init__(self, summary: str, *, field: str, **kwargs: Any) -> None:
        self.field = field
        super().__init__(summary, **kwargs)


def parse_error_body(text: str | None) -> tuple[int | None, str | None]:
    """Return (code, message) of a HubEE error body, tolerating any other body.

    HubEE's shape is `{"errors":[{"code":..,"message":..}]}`; anything else is kept as
    (shortened) text.
    """
    if not text or not text.strip():
        return None, None
    try:
        data = json.loads(text)
    except ValueError:
        return None, _shorten(text.strip())
    code: int | None = None
    messages: list[str] = []
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        for item in data["errors"]:
            if not isinstance(item, dict):
                continue
            if code is None:
                code = _as_int(item.get("code"))
            if item.get("message") not in (None, ""):
                messages.append(str(item["message"]))
    elif isinstance(data, dict):
        # OAuth servers answer {"error": ..., "error_description": ...}; others {"message": ..}.
        code = _as_int(data.get("code"))
        for key in ("message", "error_description", "error"):
            if data.get(key) not in (None, ""):
                messages.append(str(data[key]))
                break
    if messages:
        return code, _shorten("; ".join(messages))
    return code, _shorten(text.strip())


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _shorten(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[: MAX_MESSAGE_CHARS - 1] + "…"


def _one_line(text: str) -> str:
    # HubEE's validation messages contain newlines; a log line must stay one line.
    return re.sub(r"\s+", " ", text).strip()
