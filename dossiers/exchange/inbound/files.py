"""The files of a dossier: downloaded to their reserved paths, made durable, then marked stored."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dossiers.enums import AttachmentState
from dossiers.exchange.inbound.errors import PendingAttachmentError
from dossiers.exchange.inbound.journal import SyncContext
from dossiers.models import Dossier, Evenement, PieceJointe
from dossiers.models.received import initial_scan
from dossiers.records import antivirus, explanations, storage
from hubee_portal.hubee import CorruptDownloadError, DownloadResult, TooLargeError
from hubee_portal.hubee.vocabulary import AttachmentStatus

logger = logging.getLogger(__name__)


class FileFetcher:
    """Keeps no per-case state (it runs on the sync's worker threads)."""

    def __init__(self, context: SyncContext) -> None:
        self.context = context

    def download_pending(
        self,
        dossier: Dossier,
        *,
        event: Evenement | None,
        pieces: Iterable[PieceJointe] | None = None,
    ) -> None:
        """Download the rows still to fetch (`pieces`, or read from the database), then make
        the files durable together and mark them stored."""
        if pieces is None:
            pieces = PieceJointe.objects.filter(
                dossier=dossier,
                evenement=event,
                state__in=[AttachmentState.PENDING, AttachmentState.CORRUPT],
            )
        waiting = []
        written: list[tuple[PieceJointe, DownloadResult]] = []
        folders: dict[Path, bool] = {}  # folder -> created by this download
        try:
            for piece in pieces:
                if piece.hubee_status == AttachmentStatus.PENDING:
                    waiting.append(piece)
                    continue
                target = storage.resolve_inside(self.context.root, piece.stored_path)
                if target.parent not in folders:
                    folders[target.parent] = not target.parent.is_dir()
                result = self.download(dossier, piece, event, target)
                if result is not None:
                    written.append((piece, result))
        except Exception:
            # Keep what arrived: the rerun does not fetch it again.
            self.mark_stored(written, folders)
            raise
        self.mark_stored(written, folders)
        if waiting:
            raise PendingAttachmentError(
                f"{len(waiting)} pièce(s) encore en cours de dépôt sur HubEE : nouvel essai "
                "à la prochaine synchronisation."
            )

    def download(
        self, dossier: Dossier, piece: PieceJointe, event: Evenement | None, target: Path
    ) -> DownloadResult | None:
        """Fetch one file to its final name (fsynced, renamed; the folder is not synced). None:
        the file is not kept and will not be fetched again by the sync (FAILED, saying why);
        the rest of the dossier goes on."""
        case_id = str(dossier.hubee_case_id)
        attachment_id = str(piece.hubee_attachment_id)

        def fetch(handle: BinaryIO) -> DownloadResult:
            if event is None:
                return self.context.client.download_case_attachment(
                    case_id, attachment_id, handle, piece.size
                )
            return self.context.client.download_event_attachment(
                case_id, str(event.hubee_event_id), attachment_id, handle, piece.size
            )

        try:
            return storage.write_atomic(target, fetch, sync_folder=False)
        except TooLargeError as exc:
            # The partial file is gone (write_atomic); the journal and the log keep str(exc).
            logger.warning("piece %s: %s", piece.pk, exc)
            PieceJointe.objects.filter(pk=piece.pk).update(
                state=AttachmentState.FAILED,
                state_detail=explanations.file_too_large(exc.limit),
                updated_at=timezone.now(),
            )
            return None
        except CorruptDownloadError as exc:
            # Agents read state_detail: a French sentence; the sizes and digests stay in the
            # notification's journal (str(exc)) and the log.
            if self.give_up_corrupt(piece):
                logger.error(
                    "piece %s: given up after failed checks on every run: %s", piece.pk, exc
                )
                return None
            raise

    def give_up_corrupt(self, piece: PieceJointe) -> bool:
        """One more run whose download failed its check. True once it has failed on
        HUBEE_DOWNLOAD_MAX_FAILURES runs: FAILED, never fetched again by the sync (an incident
        tells the administrators, who may retry it); the rest of the dossier goes on."""
        rows = PieceJointe.objects.filter(pk=piece.pk)
        with transaction.atomic():
            rows.update(download_failures=F("download_failures") + 1)
            failures: int = rows.values_list("download_failures", flat=True).get()
            given_up = failures >= int(settings.HUBEE_DOWNLOAD_MAX_FAILURES)
            rows.update(
                state=AttachmentState.FAILED if given_up else AttachmentState.CORRUPT,
                state_detail=(
                    explanations.download_given_up(failures)
                    if given_up
                    else explanations.CORRUPT_DOWNLOAD
                ),
                updated_at=timezone.now(),
            )
        return given_up

    def mark_stored(
        self, written: list[tuple[PieceJointe, DownloadResult]], folders: dict[Path, bool]
    ) -> None:
        """One fsync per folder (and its parent's if new), then the rows say STORED: a row
        never claims a file whose name a power cut could still lose."""
        if not written:
            return
        storage.sync_dirs(folders, created=[f for f, new in folders.items() if new])
        now = timezone.now()
        scan = initial_scan()  # a file downloaded again is scanned again
        # One commit for all; plain UPDATEs, as bulk_update's CASE expressions cost more CPU.
        with transaction.atomic():
            for piece, result in written:
                PieceJointe.objects.filter(pk=piece.pk).update(
                    state=AttachmentState.STORED,
                    state_detail="",
                    download_failures=0,
                    sha256=result.sha256_hex,
                    size=result.size,
                    downloaded_at=now,
                    updated_at=now,
                    scan=scan,
                )
        # Its own step, queued once the files are durable: the sync never waits for clamd.
        antivirus.request_scan(piece.pk for piece, _ in written)
        self.context.counters.add(
            files_downloaded=len(written),
            bytes_downloaded=sum(result.size for _, result in written),
        )
