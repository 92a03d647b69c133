"""A dossier's page, and an XML attachment read as fields."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.records import access, audit
from dossiers.web import detail, xmlfields
from dossiers.web.forms import ActionForm


@require_GET
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    page = detail.build(dossier)
    forms = [(action, ActionForm(dossier=dossier, action=action)) for action in page.actions]
    detail.mark_viewed(dossier, request.user)
    audit.record(request.user, AuditAction.VIEW, dossier=dossier)
    return render(request, "dossiers/detail.html", {"page": page, "d": dossier, "forms": forms})


@require_GET
def piece_fields(request: HttpRequest, pk: int, piece_pk: int) -> HttpResponse:
    piece = access.get_piece(request.user, pk, piece_pk)
    row = detail.piece_row(piece)
    if not row.is_xml:
        return render(
            request,
            "dossiers/xml.html",
            {"piece": piece, "d": piece.dossier, "error": "Cette pièce n'est pas un XML lisible."},
            status=404,
        )
    try:
        fields = xmlfields.read(piece.absolute_path)
        error = ""
    except xmlfields.UnreadableXml as exc:
        fields, error = None, str(exc)
    audit.record(request.user, AuditAction.VIEW_XML, dossier=piece.dossier, piece=piece)
    return render(
        request,
        "dossiers/xml.html",
        {"piece": piece, "d": piece.dossier, "fields": fields, "error": error},
    )
