"""Previews: a PDF's pages or a scan shown as re-encoded images, with the same access rules and
404s as the download (dossiers.web.views.files)."""

from datetime import timedelta

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.models import PieceJointe
from dossiers.records import access, audit, previews
from dossiers.web import detail

IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=300",
}
# The images of a preview page just audited add no entry of their own; one fetched alone does.
AUDITED_FOR = timedelta(minutes=10)


def _previewable(request: HttpRequest, pk: int, piece_pk: int) -> PieceJointe:
    piece = access.get_piece(request.user, pk, piece_pk)
    if not detail.piece_row(piece).downloadable:
        raise Http404("Cette pièce n'est pas disponible.")
    return piece


@require_GET
def preview_piece(request: HttpRequest, pk: int, piece_pk: int) -> HttpResponse:
    piece = _previewable(request, pk, piece_pk)
    context = {"piece": piece, "d": piece.dossier, "preview": None, "error": ""}
    if not previews.can_open(piece):
        context["error"] = (
            "Aucun aperçu pour ce type de fichier : téléchargez-le pour l'ouvrir sur votre poste."
        )
        return render(request, "dossiers/preview.html", context, status=404)
    try:
        context["preview"] = previews.render(piece)
    except previews.PreviewUnavailable:
        context["error"] = previews.UNAVAILABLE
    audit.record(request.user, AuditAction.PREVIEW, dossier=piece.dossier, piece=piece)
    return render(request, "dossiers/preview.html", context)


@require_GET
def preview_image(request: HttpRequest, pk: int, piece_pk: int, number: int) -> FileResponse:
    piece = _previewable(request, pk, piece_pk)
    if not previews.can_open(piece):
        raise Http404("Aucun aperçu pour ce type de fichier.")
    try:
        preview = previews.render(piece)
    except previews.PreviewUnavailable as exc:
        raise Http404("Aperçu indisponible.") from exc
    if not 1 <= number <= len(preview.pages):
        raise Http404("Cette page n'existe pas.")
    path = preview.pages[number - 1]
    audit.record_unless_recent(request.user, AuditAction.PREVIEW, piece=piece, within=AUDITED_FOR)
    try:
        handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    except OSError as exc:
        raise Http404("Aperçu indisponible.") from exc
    # Only images the worker wrote from decoded pixels are shown inline, never the raw file.
    response = FileResponse(handle, content_type=previews.media_type(path))
    response["Content-Disposition"] = "inline"
    for name, value in IMAGE_HEADERS.items():
        response[name] = value
    return response
