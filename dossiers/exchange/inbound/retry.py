"""A staff member's retry of files the sync gave up (FAILED: too large, or failing their size
or digest check on every run): one more try each, under the démarche's lease, journaled as a
run. No notification is left to bring them back, so the retry fetches them itself."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import AttachmentState, RunStatus
from dossiers.exchange import lease
from dossiers.exchange.inbound.files import FileFetcher
from dossiers.exchange.inbound.journal import SyncContext
from dossiers.exchange.lease import LEASE_TTL
from dossiers.models import PieceJointe, SyncRun
from dossiers.records import storage
from hubee_portal.hubee import Attachment, DownloadResult, HubEEClient, HubEEError
from hubee_portal.hubee.vocabulary import AttachmentStatus

logger = logging.getLogger(__name__)


@dataclass
class RetryOutcome:
    busy: bool = False  # another run holds the démarche: nothing tried
    stored: int = 0
    failed: int = 0
    errors: list[str] | None = None


def retry_failed_downloads(
    demarche: Demarche, client: HubEEClient, piece_ids: Iterable[int] | None = None
) -> RetryOutcome:
    """Fetch the démarche's FAILED files again (all, or `piece_ids`). A file failing its check
    once more is given up again at once; one still too large stays FAILED."""
    with lease.held(demarche.pk, LEASE_TTL) as keeper:
        if keeper is None:
            return RetryOutcome(busy=True)
        pieces = PieceJointe.objects.filter(
            dossier__demarche=demarche,
            dossier__purged_at__isnull=True,
            state=AttachmentState.FAILED,
        ).select_related("dossier", "evenement")
        if piece_ids is not None:
            pieces = pieces.filter(pk__in=list(piece_ids))
        run = SyncRun.objects.create(demarche=demarche)
        context = SyncContext.start(demarche, client, run, lease_lost=keeper.lost)
        fetcher = FileFetcher(context)
        outcome = RetryOutcome(errors=[])
        calls = client.stats.calls
        for piece in pieces:
            if _retry_one(fetcher, context.root, piece) is not None:
                outcome.stored += 1
            else:
                outcome.failed += 1
        _finish(run, context, outcome, client.stats.calls - calls)
        return outcome


def _declared(client: HubEEClient, piece: PieceJointe) -> Attachment | None:
    """The attachment as HubEE describes it now (its size may have been corrected)."""
    case_id = str(piece.dossier.hubee_case_id)
    if piece.evenement is None:
        attachments = client.get_case(case_id).attachments
    else:
        attachments = client.get_event(case_id, str(piece.evenement.hubee_event_id)).attachments
    wanted = str(piece.hubee_attachment_id).lower()
    return next((a for a in attachments if a.id == wanted), None)


def _retry_one(fetcher: FileFetcher, root: Path, piece: PieceJointe) -> DownloadResult | None:
    target = storage.resolve_inside(root, piece.stored_path)
    created = not target.parent.is_dir()
    try:
        attachment = _declared(fetcher.context.client, piece)
        if attachment is None or attachment.status != AttachmentStatus.RECEIVED:
            logger.warning("piece %s: no longer downloadable on HubEE", piece.pk)
            return None
        piece.size = attachment.size if attachment.size >= 0 else None
        piece.hubee_status = attachment.status
        # One more try: a failed check reaches the maximum again.
        PieceJointe.objects.filter(pk=piece.pk).update(
            size=piece.size,
            hubee_status=piece.hubee_status,
            download_failures=max(settings.HUBEE_DOWNLOAD_MAX_FAILURES - 1, 0),
            failure_acknowledged_at=None,  # failing again is news: the incident tells it
        )
        result = fetcher.download(piece.dossier, piece, piece.evenement, target)
    except (HubEEError, OSError) as exc:
        # HubEE unreachable, disk: the piece stays FAILED, as it was.
        logger.warning("piece %s: retry failed: %s", piece.pk, exc)
        return None
    if result is not None:
        fetcher.mark_stored([(piece, result)], {target.parent: created})
    return result


def _finish(run: SyncRun, context: SyncContext, outcome: RetryOutcome, calls: int) -> None:
    counters = context.counters
    run.finished_at = timezone.now()
    run.files_downloaded = counters.files_downloaded
    run.bytes_downloaded = counters.bytes_downloaded
    run.errors = outcome.failed
    run.api_calls = calls
    run.status = RunStatus.PARTIAL if outcome.failed else RunStatus.OK
    run.message = (
        f"Nouvel essai de fichiers abandonnés, demandé par un administrateur : "
        f"{outcome.stored} téléchargé(s), {outcome.failed} en échec."
    )
    run.save()
