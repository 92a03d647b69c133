"""Attachment contents of the sandbox: one file per attachment under DATA_DIR/sandbox.

Files are streamed in chunks (attachments may weigh hundreds of MB) and written to a temporary
name first, so a failed upload never leaves a half file under the final name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

from django.conf import settings

CHUNK_SIZE = 1024 * 1024

Source = bytes | str | os.PathLike[str] | IO[bytes]


class TooLargeError(ValueError):
    """The stream holds more bytes than allowed."""


def root() -> Path:
    return Path(settings.DATA_DIR) / "sandbox"


def attachment_path(attachment_id: uuid.UUID | str) -> Path:
    # The id is a UUID we generated: safe as a file name, unlike the sender's fileName.
    return root() / "attachments" / str(uuid.UUID(str(attachment_id)))


def _reader(source: Source) -> tuple[Callable[[int], bytes], Callable[[], None]]:
    if isinstance(source, bytes):
        view = memoryview(source)
        offset = 0

        def read_bytes(size: int) -> bytes:
            nonlocal offset
            chunk = bytes(view[offset : offset + size])
            offset += len(chunk)
            return chunk

        return read_bytes, lambda: None
    if isinstance(source, str | os.PathLike):
        handle = open(source, "rb")  # noqa: SIM115 - closed by the returned callback
        return handle.read, handle.close
    if hasattr(source, "read"):
        return source.read, lambda: None
    raise TypeError(f"unsupported file source: {type(source).__name__}")


def store(attachment_id: uuid.UUID | str, source: Source) -> tuple[int, str]:
    """Copy bytes, a path or a binary file object into the attachment's file.

    Returns (size, sha256 hex).
    """
    read, close = _reader(source)
    try:
        return store_stream(attachment_id, read)
    finally:
        close()


def store_stream(
    attachment_id: uuid.UUID | str,
    read: Callable[[int], bytes],
    limit: int | None = None,
    check: Callable[[int, str], None] | None = None,
) -> tuple[int, str]:
    """Write what `read` gives until it returns nothing; TooLargeError beyond `limit` bytes.

    `check(size, sha256_hex)` may raise to refuse the content: the previous file then stays.
    """
    target = attachment_path(attachment_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = read(CHUNK_SIZE)
                if not chunk:
                    break
                size += len(chunk)
                if limit is not None and size > limit:
                    raise TooLargeError(f"more than {limit} bytes")
                hasher.update(chunk)
                out.write(chunk)
        if check is not None:
            check(size, hasher.hexdigest())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return size, hasher.hexdigest()


def open_attachment(attachment_id: uuid.UUID | str) -> IO[bytes] | None:
    """The attachment's file opened for reading, or None when it has no content."""
    try:
        return open(attachment_path(attachment_id), "rb")  # noqa: SIM115 - caller closes
    except FileNotFoundError:
        return None


def delete(attachment_id: uuid.UUID | str) -> None:
    attachment_path(attachment_id).unlink(missing_ok=True)
