"""A dossier's page (with « La demande » read from its XML flux), and an XML attachment read
as fields."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.records import access, audit
from dossiers.web import detail
from dossiers.web.forms import ActionForm
from dossiers.web.request import fields, read_deposit, xmlparse

SENSITIVE_QUERY = "sensible"


@require_GET
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    page = detail.build(dossier)
    forms = [(action, ActionForm(dossier=dossier, action=action)) for action in page.actions]
    views = read_deposit(dossier, page.pieces)
    # The médico-légal part is rendered only when asked for, and each opening is audited.
    sensitive_open = request.GET.get(SENSITIVE_QUERY) == "1" and any(
        view.has_sensitive for view in views
    )
    detail.mark_viewed(dossier, request.user)
    audit.record(request.user, AuditAction.VIEW, dossier=dossier)
    if sensitive_open:
        audit.record(request.user, AuditAction.VIEW_SENSITIVE, dossier=dossier)
    return render(
        request,
        "dossiers/detail.html",
        {
            "page": page,
            "d": dossier,
            "forms": forms,
            "requests": views,
            "sensitive_open": sensitive_open,
        },
    )


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
    rows, cut, error = [], "", ""
    try:
        parsed = xmlparse.parse(piece.absolute_path)
        rows, cut = fields.rows(parsed.root), parsed.cut
    except xmlparse.UnreadableXml as exc:
        error = str(exc)
    audit.record(request.user, AuditAction.VIEW_XML, dossier=piece.dossier, piece=piece)
    return render(
        request,
        "dossiers/xml.html",
        {"piece": piece, "d": piece.dossier, "rows": rows, "cut": cut, "error": error},
    )
