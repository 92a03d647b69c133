"""Files on disk: safe names, atomic writes (temp file, fsync, rename).

Layout as the official script's — `<démarche folder>/<external id>/<file name>` — with both
parts sanitised. Every write goes through `open_temp` and `commit`: the seam tests use to inject
OSError (disk full, read-only folder). Files get HUBEE_FILE_MODE and new folders HUBEE_DIR_MODE
whatever the umask: citizens' files are not for every account of the server.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, TypeVar

from django.conf import settings

from hubee_portal import file_modes

T = TypeVar("T")

MAX_NAME_BYTES = 180
TEMP_PREFIX = ".hubee-part-"
_FORBIDDEN = set('/\\:*?"<>|')
_WINDOWS_RESERVED = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}  # fmt: skip


class UnsafePathError(ValueError):
    """A computed path would leave the démarche folder."""


def _truncate_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def sanitize_component(name: str | None, fallback: str) -> str:
    """One path component from untrusted text: no separators, no `..`, no control or bidi
    characters, NFC, at most MAX_NAME_BYTES bytes, extension kept."""
    text = unicodedata.normalize("NFC", name or "")
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "C":  # controls, bidi and other format characters, unassigned
            continue
        kept.append("_" if char in _FORBIDDEN else char)
    text = " ".join("".join(kept).split())  # collapse whitespace, trim
    text = text.strip(". ")  # no hidden files, no "..", no trailing dot
    if not text:
        text = fallback
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        stem, ext = text, ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    suffix = f".{ext}" if ext else ""
    stem = _truncate_bytes(stem, MAX_NAME_BYTES - len(suffix.encode()))
    return unicodedata.normalize("NFC", stem + suffix)


def with_suffix_number(name: str, number: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    suffix = f" ({number})" + (f".{ext}" if ext else "")
    return _truncate_bytes(stem, MAX_NAME_BYTES - len(suffix.encode())) + suffix


def unique_name(folder: Path, name: str, taken: Iterable[str] = ()) -> str:
    """`name`, or `name (2)`, `name (3)`… : never an existing file nor a reserved name."""
    taken = set(taken)
    candidate, number = name, 1
    while candidate in taken or (folder / candidate).exists():
        number += 1
        candidate = with_suffix_number(name, number)
    return candidate


def resolve_inside(root: Path, relative: str) -> Path:
    """Absolute path of `relative` under `root`, refusing anything that escapes it."""
    root = root.resolve()
    path = (root / relative).resolve()
    if path == root or root not in path.parents:
        # The name is not repeated: it may be the citizen's file name.
        raise UnsafePathError("Chemin hors du dossier de la démarche : nom de fichier refusé.")
    return path


def ensure_dir(path: Path) -> None:
    """`path` and its missing parents, created with HUBEE_DIR_MODE (the injection seam of the
    tests: folders are made through here)."""
    file_modes.ensure_dir(path)


def open_temp(folder: Path) -> tuple[Path, BinaryIO]:
    """A new temporary file in `folder` (same filesystem as the final name, so rename is
    atomic), with HUBEE_FILE_MODE (the rename keeps it)."""
    temp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
    file_mode = settings.HUBEE_FILE_MODE
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, file_mode)
    try:
        os.fchmod(fd, file_mode)  # exact, whatever the umask
        return temp, os.fdopen(fd, "wb")  # closed by write_atomic
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise


def commit(temp: Path, final: Path, *, sync_folder: bool = True) -> None:
    os.replace(temp, final)
    if sync_folder:
        _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dirs(folders: Iterable[Path], created: Iterable[Path] = ()) -> None:
    """Make the renames into `folders` durable, one fsync per folder; for each folder of
    `created` (made since its parent was last synced), its own entry in its parent too."""
    for folder in folders:
        _fsync_dir(folder)
    for folder in created:
        _fsync_dir(folder.parent)


def write_atomic(final: Path, write: Callable[[BinaryIO], T], *, sync_folder: bool = True) -> T:
    """Run `write(file)` on a temp file next to `final`, fsync, then rename onto `final`.

    A final name never holds a partial file; on any error the temp file is removed. With
    `sync_folder=False` the rename is durable only once the caller has run `sync_dirs` on the
    folder: one fsync for several files.
    """
    ensure_dir(final.parent)
    temp, handle = open_temp(final.parent)
    try:
        with handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        commit(temp, final, sync_folder=sync_folder)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return result


def remove_partial_files(root: Path) -> int:
    """Delete temp files left by a killed process (call while holding the démarche lease)."""
    removed = 0
    if not root.is_dir():
        return 0
    for temp in root.glob(f"*/{TEMP_PREFIX}*"):
        temp.unlink(missing_ok=True)
        removed += 1
    return removed
