"""CSV export of the filtered dossier list: same filters and habilitations as the list, for
French Excel (UTF-8 with BOM, `;`), streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Count
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dossiers.enums import AuditAction
from dossiers.records import audit
from dossiers.records.access import dossiers_for
from dossiers.records.querysets import with_unread
from dossiers.web.filters import DossierFilter
from hubee_portal.hubee.vocabulary import label_of

HEADER = [
    "Numéro de télédossier",
    "Démarche",
    "Statut",
    "Reçu le",
    "Nom du demandeur",
    "Prénom du demandeur",
    "Courriel du demandeur",
    "Nombre de pièces",
]
# A cell starting with one of these is a formula for a spreadsheet: neutralise it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    user = request.user
    base = with_unread(dossiers_for(user).select_related("demarche"), user)
    filterset = DossierFilter(request.GET or None, queryset=base, user=user)
    rows = filterset.in_queue(filterset.qs)
    ordering = list(rows.query.order_by) or ["-received_at"]
    rows = rows.order_by(*ordering, "-pk").annotate(files=Count("pieces_jointes"))
    # The filters, never the search words: they are often a name, kept here 36 months.
    criteria = request.GET.copy()
    searched = bool(criteria.pop("q", None) and request.GET.get("q", "").strip())
    detail = criteria.urlencode() + ("&recherche" if searched else "")
    audit.record(user, AuditAction.EXPORT, detail=detail.lstrip("&")[:255])

    writer = csv.writer(Echo(), delimiter=";")
    tz = timezone.get_current_timezone()

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(HEADER)
        for dossier in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    _cell(dossier.external_id),
                    _cell(dossier.demarche.name),
                    label_of(dossier.status),
                    dossier.received_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                    _cell(dossier.applicant_last_name),
                    _cell(dossier.applicant_first_name),
                    _cell(dossier.applicant_email),
                    dossier.files,
                ]
            )

    name = f"dossiers-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
