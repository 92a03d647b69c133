"""The antivirus step: every stored file scanned by clamd before agents may open it.

Its own step after the download is durable (dossiers.exchange.inbound.files queues it): the
sync never waits for clamd and never decides a notification's fate on it. Until the verdict the
file is « en attente d'analyse » (`openable` is false: no download, preview or ZIP). Infected:
moved to HUBEE_QUARANTINE_DIR, staff mailed. Over clamd's limits: « non analysable », closed.
clamd unreachable: the files wait, a Heartbeat row says since when (dossiers.operations.health
opens the incident), and the periodic task (dossiers.tasks.scan_pending_files) resumes.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import mail_admins
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from dossiers.enums import OPENABLE_SCANS, AttachmentState, AuditAction, ScanState
from dossiers.models import Heartbeat, PieceJointe
from dossiers.records import audit, previews, storage
from dossiers.records.antivirus_client import ScannerUnavailable, Verdict, ping, scan_file

logger = logging.getLogger(__name__)

SCAN_TASK = "dossiers.tasks.scan_files"
# A Heartbeat row present while clamd cannot be reached; beat_at: the first failure.
UNREACHABLE = "antivirus-injoignable"
BATCH = 500
# The verdicts that keep a file closed (PieceJointe's partial index covers them).
HELD = ["infected", "pending", "unscannable"]  # as in the index's condition, for SQLite


def enabled() -> bool:
    return settings.ANTIVIRUS == "clamd"


def openable(piece: PieceJointe) -> bool:
    return piece.scan in OPENABLE_SCANS


def quarantine_folder(dossier_id: int) -> Path:
    return settings.HUBEE_QUARANTINE_DIR / str(dossier_id)


def quarantine_file(dossier_id: int, piece_id: int) -> Path:
    """Outside every démarche folder; named by ids, never by the citizen's file name."""
    return quarantine_folder(dossier_id) / f"{piece_id}.quarantaine"


def quarantine_path(piece: PieceJointe) -> Path:
    return quarantine_file(piece.dossier_id, piece.pk)


def delete_quarantine_for(dossier_id: int) -> None:
    """The dossier's quarantined files, gone (retention purge). Raises OSError on failure."""
    folder = quarantine_folder(dossier_id)
    if folder.is_dir():
        shutil.rmtree(folder)


def request_scan(piece_ids: Iterable[int]) -> None:
    """Queue the scan of freshly stored files (the task by name: records never import tasks).
    Never raises: a failure here leaves them pending for the periodic retry."""
    ids = list(piece_ids)
    if not ids or not enabled():
        return
    try:
        async_task(SCAN_TASK, ids, task_name=f"hubee-antivirus-{ids[0]}", group="hubee_antivirus")
    except Exception:
        logger.exception("antivirus : analyse de %s fichier(s) non demandée", len(ids))


def scan_pending(limit: int = BATCH) -> dict:
    """The periodic retry: files still waiting (clamd was down, a task was lost)."""
    waiting = PieceJointe.objects.filter(scan=ScanState.PENDING, state=AttachmentState.STORED)
    if not enabled():
        # The administrator turned the antivirus off: nothing will scan them any more.
        return {"off": waiting.update(scan=ScanState.OFF)}
    if unreachable_since() is not None and ping(settings.CLAMD_SOCKET):
        # Back, even if no file waits any more: the incident may close.
        Heartbeat.objects.filter(name=UNREACHABLE).delete()
    return scan_pieces(list(waiting.order_by("pk").values_list("pk", flat=True)[:limit]))


def scan_pieces(ids: Iterable[int], *, rescan: bool = False) -> dict:
    """Scan these files (only the pending ones unless `rescan`: then also those cleared before,
    and the unscannable ones, whose limits may have been raised). Returns counts by outcome."""
    counts: Counter[str] = Counter()
    if not enabled():
        return dict(counts)
    wanted = [ScanState.PENDING]
    if rescan:
        wanted += [ScanState.CLEAN, ScanState.OFF, ScanState.UNSCANNABLE, ScanState.INFECTED]
    pieces = PieceJointe.objects.filter(
        pk__in=list(ids), state=AttachmentState.STORED, scan__in=wanted
    ).select_related("dossier__demarche")
    answered = False
    for piece in pieces.order_by("pk").iterator(chunk_size=200):
        try:
            path = storage.resolve_inside(
                Path(piece.dossier.demarche.download_folder), piece.stored_path
            )
            if piece.scan == ScanState.INFECTED:
                # Already judged: only a quarantine (or a preview removal) that failed is tried
                # again.
                if path.is_file():
                    _quarantine(piece, path)
                    counts["requarantined"] += 1
                _drop_previews(piece)
                continue
            verdict = scan_file(path, settings.CLAMD_SOCKET)
        except ScannerUnavailable as exc:
            Heartbeat.objects.get_or_create(name=UNREACHABLE)
            logger.warning("antivirus : %s, les fichiers attendent", exc)
            counts["waiting"] += 1
            break
        except (OSError, storage.UnsafePathError):
            counts["unreadable"] += 1  # left as it is: the integrity check reports the file
            continue
        if not answered:
            answered = True
            Heartbeat.objects.filter(name=UNREACHABLE).delete()
        record(piece, verdict, path)
        counts[verdict.outcome] += 1
    return dict(counts)


def record(piece: PieceJointe, verdict: Verdict, path: Path) -> None:
    now = timezone.now()
    scan = {
        "clean": ScanState.CLEAN,
        "infected": ScanState.INFECTED,
        "unscannable": ScanState.UNSCANNABLE,
    }[verdict.outcome]
    if scan == ScanState.INFECTED:
        _quarantine(piece, path)
    PieceJointe.objects.filter(pk=piece.pk).update(
        scan=scan, scan_signature=verdict.signature[:200], scanned_at=now, updated_at=now
    )
    if scan != ScanState.CLEAN:
        # Rendered while it was « non analysé » (ANTIVIRUS off, or before new signatures).
        _drop_previews(piece)
    if scan == ScanState.INFECTED:
        _alert(piece, verdict.signature)


def _drop_previews(piece: PieceJointe) -> None:
    """Its page images show what the file holds: they go once it is closed (after the row says
    so: a view in between refuses it already). A failure is retried by hubee_verify."""
    try:
        previews.delete_piece(piece.dossier_id, piece.pk)
    except OSError:
        logger.exception("antivirus : aperçus de la pièce %s non supprimés", piece.pk)


def _quarantine(piece: PieceJointe, path: Path) -> None:
    """Moved before the row says so: a crash in between leaves a file the scan cannot find,
    still closed to agents (pending)."""
    target = quarantine_path(piece)
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(path, target)
        os.chmod(target, 0o600)
    except OSError:
        # Closed to agents all the same; hubee_verify --antivirus moves it again.
        logger.exception("antivirus : pièce %s non déplacée en quarantaine", piece.pk)


def _alert(piece: PieceJointe, signature: str) -> None:
    dossier = piece.dossier
    body = (
        f"L'antivirus a détecté « {signature} » dans une pièce jointe (n° {piece.pk}) du "
        f"dossier {dossier.external_id} de la démarche « {dossier.demarche} ».\n\n"
        "Le fichier a été déplacé en quarantaine, hors du dossier de la démarche : les agents ne "
        "peuvent ni le télécharger ni l'afficher. Le reste du dossier est consultable.\n"
        f"Quarantaine : {settings.HUBEE_QUARANTINE_DIR}\n"
        f"Administration : {settings.PORTAL_BASE_URL}"
        f"{reverse('admin:dossiers_dossier_change', args=[dossier.pk])}\n"
    )
    try:
        mail_admins("Fichier bloqué par l'antivirus", body, fail_silently=False)
    except Exception:
        logger.exception("antivirus : alerte non envoyée pour la pièce %s", piece.pk)


def unreachable_since():
    """When clamd stopped answering, or None (dossiers.operations.health)."""
    if not enabled():
        return None
    return Heartbeat.objects.filter(name=UNREACHABLE).values_list("beat_at", flat=True).first()


def held_counts() -> dict[str, int]:
    """Files held back, by verdict (pending, infected, unscannable): one query on the partial
    index of the few such rows."""
    rows = (
        PieceJointe.objects.filter(scan__in=HELD)
        .values_list("scan")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {**dict.fromkeys(HELD, 0), **{str(scan): n for scan, n in rows}}


def waiting_count() -> int:
    return PieceJointe.objects.filter(scan=ScanState.PENDING, state=AttachmentState.STORED).count()


def release(user, pieces: Iterable[PieceJointe]) -> tuple[int, int]:
    """A superuser opens unscannable files: each is scanned again first (the limits may have
    been raised, a signature may now know it); still unscannable, it is released, audited.
    Returns (released, judged by the rescan). Raises ScannerUnavailable when clamd is down."""
    if not getattr(user, "is_superuser", False):
        raise PermissionDenied("Seul un superutilisateur peut libérer une pièce non analysable.")
    released = judged = 0
    for piece in pieces:
        if piece.scan != ScanState.UNSCANNABLE:
            continue
        if scan_pieces([piece.pk], rescan=True).get("waiting"):
            raise ScannerUnavailable("clamd injoignable : rien n'a été libéré après lui")
        piece.refresh_from_db()
        if piece.scan != ScanState.UNSCANNABLE:
            judged += 1  # clean or infected: the antivirus decided, not the superuser
            continue
        now = timezone.now()
        PieceJointe.objects.filter(pk=piece.pk, scan=ScanState.UNSCANNABLE).update(
            scan=ScanState.RELEASED, scanned_at=now, updated_at=now
        )
        audit.record(
            user,
            AuditAction.ANTIVIRUS_RELEASE,
            dossier=piece.dossier,
            piece=piece,
            detail=f"Libérée sans analyse complète ({piece.scan_signature})",
        )
        released += 1
    return released, judged
