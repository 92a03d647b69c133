"""A ZIP archive produced while it is sent: zipfile writes into a buffer that is emptied after
every chunk, so memory stays at one chunk whatever the size of the files."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

CHUNK_SIZE = 256 * 1024


class _Sink:
    """A write-only, unseekable file: zipfile then writes data descriptors, no seek back."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def stream_zip(entries: Iterable[tuple[str, Path, datetime | None]]) -> Iterator[bytes]:
    """Yield the archive of (name in the archive, file on disk, date) entries."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for arcname, path, when in entries:
            info = zipfile.ZipInfo(arcname, date_time=_zip_time(when))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as source, zf.open(info, mode="w", force_zip64=True) as target:
                while chunk := source.read(CHUNK_SIZE):
                    target.write(chunk)
                    data = sink.drain()
                    if data:
                        yield data
            data = sink.drain()
            if data:
                yield data
    data = sink.drain()
    if data:
        yield data


def _zip_time(when: datetime | None) -> tuple[int, int, int, int, int, int]:
    if when is None or when.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)
