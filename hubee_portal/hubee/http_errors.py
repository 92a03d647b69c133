"""What a failed exchange means: `requests` exceptions and HTTP error answers turned into the
typed errors of errors.py (transient or not, ambiguous or not, with a Reason), the error body
read within bounds, and the server's Retry-After."""

from __future__ import annotations

import email.utils
import logging
import math
import re
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from .errors import (
    AuthenticationError,
    BadRequestError,
    CertificateError,
    ForbiddenError,
    HubEEError,
    NotFoundError,
    PermanentError,
    Reason,
    RedirectError,
    TooLargeError,
    TransientError,
    parse_error_body,
    size_in_words,
)

logger = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024

_PERMANENT_BY_STATUS: dict[int, tuple[type[PermanentError], str]] = {
    400: (BadRequestError, "HubEE rejected the request as invalid"),
    401: (AuthenticationError, "HubEE rejected the access token"),
    403: (ForbiddenError, "HubEE denied access"),
    404: (NotFoundError, "HubEE object not found"),
}


def network_error(exc: requests.RequestException, method: str, path: str) -> HubEEError:
    """The error of a request that got no HTTP answer."""
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


def http_error(response: requests.Response, method: str, path: str) -> HubEEError:
    """The error of a non-2xx answer; reads (part of) its body."""
    status = response.status_code
    code, message = parse_error_body(error_text(response))
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


def read_json_body(response: requests.Response, limit: int, method: str, path: str) -> bytes:
    """The body of a (streamed) JSON answer, never more than `limit` bytes of it in memory:
    TooLargeError past it (before reading when Content-Length says so); an interrupted read
    is the transient error of a request without answer."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large_answer(response, limit, method, path)
    body = bytearray()
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            body += chunk
            if len(body) > limit:
                raise too_large_answer(response, limit, method, path)
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
        requests.ConnectionError,
        requests.Timeout,
    ) as exc:
        raise TransientError(
            f"HubEE answer interrupted after {len(body)} bytes ({type(exc).__name__})",
            method=method,
            path=path,
            status_code=response.status_code,
            reason=Reason.TIMEOUT if isinstance(exc, requests.Timeout) else Reason.NETWORK,
        ) from exc
    return bytes(body)


def too_large_answer(
    response: requests.Response, limit: int, method: str, path: str
) -> TooLargeError:
    logger.warning("HubEE %s %s: answer over %d bytes, not read", method, path, limit)
    return TooLargeError(
        f"Réponse de HubEE trop volumineuse (plus de {size_in_words(limit)}, réglage "
        "HUBEE_MAX_JSON_BYTES) : elle n'a pas été lue",
        limit=limit,
        method=method,
        path=path,
        status_code=response.status_code,
    )


def error_text(response: requests.Response) -> str:
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


def _short(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
