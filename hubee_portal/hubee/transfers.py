"""File transfers: a download streamed into a file and checked against the expected size and
HubEE's SHA-256 digest (retried from byte 0, never left half written), and an upload streamed
from a file whose size is checked before sending."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from typing import IO, Any

import requests

from .data import DownloadResult
from .errors import (
    CorruptDownloadError,
    Reason,
    TooLargeError,
    TransientError,
    size_in_words,
)
from .transport import Transport

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024

_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_ALGORITHM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def download(
    transport: Transport, path: str, fileobj: IO[bytes], expected_size: int | None
) -> DownloadResult:
    """Stream GET `path` into fileobj (overwritten from 0), retried on transient failures.
    Never more than the config's max_file_bytes written: TooLargeError, the file emptied."""
    if expected_size is not None and not _is_size(expected_size):
        raise ValueError("expected_size must be None or an integer >= 0")
    limit = transport.config.max_file_bytes
    full_path = transport.api_prefix + path
    if expected_size is not None and expected_size > limit:
        raise _too_large(limit, full_path, None, f"{expected_size} octets annoncés, ")
    state = transport.new_state()
    while True:
        _rewind(fileobj)
        response = transport.call(state, "GET", path, stream=True)
        try:
            with response:
                return _receive(response, fileobj, expected_size, full_path, limit)
        except TransientError as error:
            _rewind(fileobj)  # never leave a bad or partial file behind
            transport.before_retry(state, error)
        except TooLargeError:
            _rewind(fileobj)
            raise


def _too_large(limit: int, path: str, status: int | None, declared: str = "") -> TooLargeError:
    logger.warning("HubEE GET %s: file over %d bytes, not kept", path, limit)
    return TooLargeError(
        f"Fichier de HubEE trop volumineux ({declared}plus de {size_in_words(limit)}, réglage "
        "HUBEE_MAX_FILE_BYTES) : il n'a pas été conservé",
        limit=limit,
        method="GET",
        path=path,
        status_code=status,
    )


def _receive(
    response: requests.Response,
    fileobj: IO[bytes],
    expected_size: int | None,
    path: str,
    limit: int,
) -> DownloadResult:
    hasher = hashlib.sha256()
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
            if not chunk:
                continue
            if size + len(chunk) > limit:
                raise _too_large(limit, path, response.status_code)  # never written past it
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


def upload(
    transport: Transport,
    path: str,
    fileobj: IO[bytes],
    size: int,
    sha256_b64: str | None,
) -> None:
    """PUT `path` streamed from fileobj, retried (each attempt sends the file from its start)."""
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

    config = transport.config
    response = transport.call(
        transport.new_state(),
        "PUT",
        path,
        body=body,
        headers=headers,
        read_timeout=max(config.read_timeout, config.upload_read_timeout),
    )
    response.close()


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
