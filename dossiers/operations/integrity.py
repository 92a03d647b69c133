"""Integrity: re-hash every stored file and compare it with the SHA-256 recorded at download."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from django.db.models import QuerySet
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import AttachmentState, ScanState
from dossiers.models import IntegrityCheck, PieceJointe
from dossiers.records import antivirus, previews, storage

CHUNK = 1024 * 1024
logger = logging.getLogger(__name__)


class NotARegularFile(OSError):
    """A FIFO, device or folder where a stored file should be: never read (it could block)."""


def sha256_of(path: Path) -> str:
    # O_NOFOLLOW: a symbolic link put in place of a file is not followed out of the folder;
    # O_NONBLOCK: opening a FIFO does not wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(f"{path} n'est pas un fichier ordinaire")
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def select_demarches(reference: str | None) -> QuerySet[Demarche]:
    """All démarches, or those matching an id or a process code."""
    demarches = Demarche.objects.order_by("pk")
    if not reference:
        return demarches
    if reference.isdigit():
        return demarches.filter(pk=int(reference))
    return demarches.filter(process_code=reference)


def verify_demarche(demarche: Demarche) -> IntegrityCheck:
    check = IntegrityCheck.objects.create(demarche=demarche)
    missing: list[int] = []
    altered: list[int] = []
    root = Path(demarche.download_folder)
    pieces = (
        PieceJointe.objects.filter(dossier__demarche=demarche, state=AttachmentState.STORED)
        .exclude(sha256="")
        .order_by("pk")
        .values_list("pk", "stored_path", "sha256", "scan", "dossier_id")
    )
    checked = 0
    for pk, stored_path, sha256, scan, dossier_id in pieces.iterator():
        checked += 1
        if scan in antivirus.HELD:
            _drop_previews(dossier_id, pk)
        try:
            if scan == ScanState.INFECTED:
                # Moved by the antivirus: checked where it is kept.
                path = antivirus.quarantine_file(dossier_id, pk)
                if not path.is_file():
                    path = storage.resolve_inside(root, stored_path)  # its move had failed
            else:
                path = storage.resolve_inside(root, stored_path)
            if sha256_of(path) != sha256:
                altered.append(pk)
        except FileNotFoundError:
            missing.append(pk)
        except (OSError, storage.UnsafePathError):
            altered.append(pk)  # unreadable, a link, not a file: no longer what was received
    check.files_checked = checked
    check.missing = len(missing)
    check.altered = len(altered)
    check.details = {"missing": missing, "altered": altered}
    check.finished_at = timezone.now()
    check.save()
    return check


def _drop_previews(dossier_id: int, pk: int) -> None:
    """Images of a file the antivirus holds back, left by a render that ran as it was closed or
    a removal that failed: they show its content, so they go."""
    try:
        if previews.delete_piece(dossier_id, pk):
            logger.warning("intégrité : aperçus de la pièce %s fermée supprimés", pk)
    except OSError:
        logger.exception("intégrité : aperçus de la pièce %s non supprimés", pk)


def verify(demarches: Iterable[Demarche]) -> list[IntegrityCheck]:
    return [verify_demarche(demarche) for demarche in demarches]
