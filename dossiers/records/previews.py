"""Previews without downloading: a PDF's pages as PNG images, a JPEG or PNG scan re-encoded.

`can_open(piece)` alone decides whether an attachment gets a preview (never before the antivirus
cleared it: `source_path`). The file is decoded in a child process
(dossiers.records.preview_worker) with a wall limit and a memory cap; its images are cached under
`DATA_DIR/apercus/<dossier>/<piece>-<sha256>/` — never in the démarche folder, which other tools
read — rebuilt if missing, deleted by the retention purge (`delete_for`) and when the antivirus
closes the file (`delete_piece`: its images show what the file holds). Raw bytes are never
shown: only images the worker wrote from decoded pixels.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess  # noqa: S404  (the worker is our own module, run without a shell)
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from dossiers.enums import OPENABLE_SCANS, AttachmentState
from dossiers.models import PieceJointe
from dossiers.records import storage

logger = logging.getLogger(__name__)

FOLDER = "apercus"
WORKER = "dossiers.records.preview_worker"
# A render that failed is not tried again for this long (a hostile file, not a busy hour).
FAILED_FOR_SECONDS = 3600
WALL_SECONDS = 10.0
MEMORY_BYTES = 512 * 1024 * 1024
MAX_PAGES = 20
MAX_PX = 2000
DPI = 150
MAX_BYTES = {"pdf": 50 * 1024 * 1024, "jpeg": 20 * 1024 * 1024, "png": 20 * 1024 * 1024}
# The declared type and the first bytes must both say the same kind.
KINDS_BY_MIME = {
    "application/pdf": "pdf",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/png": "png",
}
MAGIC = {"pdf": b"%PDF-", "jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg"}
UNAVAILABLE = (
    "Aperçu indisponible : ce fichier ne peut pas être affiché. "
    "Vous pouvez toujours le télécharger pour l'ouvrir sur votre poste."
)


class PreviewUnavailable(Exception):
    """The file could not be turned into images (broken, hostile, too slow, too big)."""


@dataclass(frozen=True)
class Preview:
    pages: list[Path]  # the images, in page order
    total: int  # pages in the file: more than len(pages) when cut at MAX_PAGES

    @property
    def truncated(self) -> bool:
        return self.total > len(self.pages)


def source_path(piece: PieceJointe, root: Path | None = None) -> Path | None:
    """The stored file, if it is inside its démarche folder (`root`, read from the piece if not
    given) and present."""
    if piece.state != AttachmentState.STORED or piece.scan not in OPENABLE_SCANS:
        return None  # never a file the antivirus has not cleared
    if root is None:
        root = Path(piece.dossier.demarche.download_folder)
    try:
        path = storage.resolve_inside(root, piece.stored_path)
    except storage.UnsafePathError:
        return None
    return path if path.is_file() else None


def kind_of(piece: PieceJointe, root: Path | None = None) -> str | None:
    """The kind (pdf, jpeg, png) when the declared type, the first bytes and the size agree."""
    declared = KINDS_BY_MIME.get((piece.mime_type or "").split(";")[0].strip().lower())
    if declared is None:
        return None
    path = source_path(piece, root)
    if path is None:
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if not 0 < size <= MAX_BYTES[declared] or not head.startswith(MAGIC[declared]):
        return None
    return declared


def can_open(piece: PieceJointe, root: Path | None = None) -> bool:
    """Whether the agent is offered a preview of this attachment (`root`: its démarche folder,
    when the caller has it, to spare a query)."""
    return kind_of(piece, root) is not None


def dossier_folder(dossier_pk: int) -> Path:
    return settings.DATA_DIR / FOLDER / str(dossier_pk)


def _cache_key(piece: PieceJointe, path: Path) -> str:
    digest = piece.sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        stat = path.stat()  # no verified digest: the file's size and date stand for it
        digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return f"{piece.pk}-{digest[:32]}"


def _read(folder: Path) -> Preview | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pages = sorted(p for p in folder.iterdir() if p.suffix in MEDIA_TYPES)
    if not pages or len(pages) != meta.get("pages"):
        return None
    return Preview(pages=pages, total=int(meta.get("total", len(pages))))


def _make_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def render(piece: PieceJointe, *, timeout: float = WALL_SECONDS, worker: str = WORKER) -> Preview:
    """The cached preview, built first if missing. Raises PreviewUnavailable."""
    kind = kind_of(piece)
    path = source_path(piece)
    if kind is None or path is None:
        raise PreviewUnavailable("type non prévisualisable")
    parent = dossier_folder(piece.dossier_id)
    final = parent / _cache_key(piece, path)
    cached = _read(final)
    if cached is not None:
        return cached
    for folder in (settings.DATA_DIR / FOLDER, parent):
        _make_dir(folder)
    failed = parent / f"{final.name}.failed"
    # One build at a time per file: a second request waits and takes the first one's result.
    with _locked(parent / f"{final.name}.lock"):
        cached = _read(final)
        if cached is not None:
            return cached
        if _recently_failed(failed):
            raise PreviewUnavailable("échec récent")
        try:
            _build(piece, kind, path, parent, final, timeout, worker)
        except PreviewUnavailable:
            # A hostile file costs one worker an hour, not one per view.
            with contextlib.suppress(OSError):
                failed.touch(mode=0o600)
            raise
    preview = _read(final)
    if preview is None:
        raise PreviewUnavailable("cache illisible")
    return preview


def _build(
    piece: PieceJointe,
    kind: str,
    path: Path,
    parent: Path,
    final: Path,
    timeout: float,
    worker: str,
) -> None:
    temp = parent / f".part-{uuid.uuid4().hex}"
    _make_dir(temp)
    try:
        result = _run_worker(piece, kind, path, temp, timeout, worker)
        written = sorted(p for p in temp.iterdir() if p.suffix in MEDIA_TYPES)
        if not written or len(written) != result.get("pages"):
            raise PreviewUnavailable("images manquantes")
        for image in written:
            image.chmod(0o600)
        meta = temp / "meta.json"
        meta.write_text(json.dumps({"pages": len(written), "total": result.get("total")}))
        meta.chmod(0o600)
        _replace_older(parent, piece.pk, keep=final.name)
        if final.exists() and _read(final) is None:
            shutil.rmtree(final, ignore_errors=True)  # incomplete (an image deleted): rebuilt
        try:
            os.rename(temp, final)
        except OSError as exc:
            if _read(final) is None:
                raise PreviewUnavailable("cache inaccessible") from exc
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _recently_failed(marker: Path) -> bool:
    try:
        return time.time() - marker.stat().st_mtime < FAILED_FOR_SECONDS
    except OSError:
        return False


def _replace_older(parent: Path, piece_pk: int, *, keep: str) -> None:
    """A file replaced since (another sha256): its old images and marks go, never the current."""
    for old in parent.glob(f"{piece_pk}-*"):
        if old.name.startswith(keep):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def delete_piece(dossier_pk: int, piece_pk: int) -> int:
    """One file's images and marks, gone (the antivirus closed it: infected, unscannable). Returns
    how many cached previews were removed; raises OSError when one could not be."""
    removed = 0
    for old in dossier_folder(dossier_pk).glob(f"{piece_pk}-*"):
        if old.is_dir():
            shutil.rmtree(old)
            removed += 1
        else:
            old.unlink(missing_ok=True)
    return removed


def _run_worker(
    piece: PieceJointe, kind: str, path: Path, folder: Path, timeout: float, worker: str
) -> dict:
    command = [
        sys.executable,
        "-E",
        "-s",
        "-m",
        worker,
        kind,
        str(path),
        str(folder),
        str(MAX_PAGES),
        str(MAX_PX),
        str(DPI),
        str(MEMORY_BYTES),
    ]
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"}
    try:
        # run() kills the child when the wall limit is reached.
        done = subprocess.run(  # noqa: S603
            command,
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        logger.warning("aperçu de la pièce %s : délai de %s s dépassé", piece.pk, timeout)
        raise PreviewUnavailable("délai dépassé") from exc
    result: dict = {}
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    with contextlib.suppress(ValueError, IndexError):
        result = json.loads(lines[-1])
    if done.returncode != 0 or not isinstance(result, dict) or "error" in result:
        # The exception's name only: never the file's content nor the worker's output.
        error = result.get("error") if isinstance(result, dict) else None
        logger.warning(
            "aperçu de la pièce %s impossible (%s, code %s)",
            piece.pk,
            str(error or "sortie illisible")[:60],
            done.returncode,
        )
        raise PreviewUnavailable("fichier illisible")
    return result


def media_type(path: Path) -> str:
    return MEDIA_TYPES[path.suffix]


def delete_for(dossier_pk: int) -> None:
    """The dossier's preview folder, gone (retention purge). Raises OSError on failure."""
    folder = dossier_folder(dossier_pk)
    if folder.is_dir():
        shutil.rmtree(folder)
