"""Downloads: one attachment, or all of a dossier's as a ZIP streamed while it is built."""

from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.models import PieceJointe
from dossiers.records import access, audit, storage
from dossiers.web import detail, zipstream
from dossiers.web.responses import as_download


def _path(piece: PieceJointe) -> Path:
    try:
        return storage.resolve_inside(
            Path(piece.dossier.demarche.download_folder), piece.stored_path
        )
    except storage.UnsafePathError as exc:
        raise Http404("Fichier introuvable.") from exc


@require_GET
def download_piece(request: HttpRequest, pk: int, piece_pk: int) -> FileResponse:
    piece = access.get_piece(request.user, pk, piece_pk)
    row = detail.piece_row(piece)
    if not row.downloadable:
        raise Http404("Cette pièce n'est pas disponible.")
    path = _path(piece)
    try:
        handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    except OSError as exc:
        raise Http404("Fichier introuvable.") from exc
    audit.record(request.user, AuditAction.DOWNLOAD, dossier=piece.dossier, piece=piece)
    response = FileResponse(handle)
    return as_download(response, path.name)


@require_GET
def download_all(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    dossier = access.get_dossier(request.user, pk)
    root = Path(dossier.demarche.download_folder)
    pieces = [
        row.piece
        for row in (
            detail.piece_row_in(piece, root)
            for piece in PieceJointe.objects.filter(dossier=dossier)
        )
        if row.downloadable
    ]
    if not pieces:
        raise Http404("Aucune pièce disponible pour ce dossier.")
    entries, taken = [], set()
    for piece in pieces:
        path = _path(piece)
        name, number = path.name, 1
        while name in taken:  # a returned document may share a received one's name
            number += 1
            name = storage.with_suffix_number(path.name, number)
        taken.add(name)
        entries.append(
            (f"{dossier.folder_name}/{name}", path, piece.downloaded_at or piece.created_at)
        )
    audit.record(
        request.user, AuditAction.DOWNLOAD_ALL, dossier=dossier, detail=f"{len(entries)} pièces"
    )
    response = StreamingHttpResponse(zipstream.stream_zip(entries))
    archive = storage.sanitize_component(dossier.external_id, "dossier") + ".zip"
    return as_download(response, archive)
