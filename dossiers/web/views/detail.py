"""A dossier's page (with « La demande » read from its XML flux), and an XML attachment read
as fields."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.records import access, audit
from dossiers.web import detail
from dossiers.web.forms import ActionForm
from dossiers.web.request import fields, read_deposit, xmlparse

SENSITIVE_QUERY = "sensible"
# One consultation entry per dossier and agent for this long, however often the page follows.
FOLLOW_AUDITED_FOR = timedelta(minutes=10)


@require_GET
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    page = detail.build(dossier)
    forms = action_forms(dossier, page)
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


def action_forms(dossier, page: detail.DossierPage) -> list[tuple]:
    return [(action, ActionForm(dossier=dossier, action=action)) for action in page.actions]


@require_GET
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    """The parts of the dossier page that change while a push waits: its status, the
    conversation and the actions (static/portal/portal.js asks for them every few seconds)."""
    dossier = access.get_dossier(request.user, pk)
    page = detail.build(dossier)
    # The conversation is a consultation, but a page left open must not flood the journal.
    audit.record_unless_recent(
        request.user, AuditAction.VIEW, dossier=dossier, within=FOLLOW_AUDITED_FOR
    )
    response = render(
        request,
        "dossiers/follow.html",
        {"page": page, "d": dossier, "forms": action_forms(dossier, page)},
    )
    response["Cache-Control"] = "no-store"
    return response


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
