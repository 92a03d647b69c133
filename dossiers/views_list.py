"""The dossier list: search, filters, sort, queues and pages, in a fixed number of queries."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers import audit
from dossiers.access import dossiers_for
from dossiers.enums import AuditAction
from dossiers.filters import SORT_LABELS, DossierFilter, with_unread
from dossiers.queues import Queue, queue_q

QUEUE_KEYS = {Queue.TODO: "todo", Queue.WAITING: "waiting", Queue.DONE: "done"}


@require_GET
def dossier_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    base = with_unread(dossiers_for(user).select_related("demarche"), user)
    filterset = DossierFilter(request.GET or None, queryset=base, user=user)
    filtered = filterset.qs
    counts = filtered.aggregate(
        total=Count("pk"),
        **{key: Count("pk", filter=queue_q(queue)) for queue, key in QUEUE_KEYS.items()},
    )
    rows = filterset.in_queue(filtered)
    ordering = list(rows.query.order_by) or ["-received_at"]
    rows = rows.order_by(*ordering, "-pk")  # a stable order across pages
    page = Paginator(rows, settings.DOSSIERS_PER_PAGE).get_page(request.GET.get("page"))
    audit.record(user, AuditAction.LIST, detail=f"page {page.number}")

    current = request.GET.get("tri") or "-received"  # the default order
    sorts = {}
    for key, label in SORT_LABELS.items():
        state = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        sorts[key] = {
            "label": label,
            "next": f"-{key}" if state == "ascending" else key,
            "aria": state,
        }
    queues = [
        {
            "value": queue.value,
            "label": queue.label,
            "count": counts[key],
            "current": filterset.queue == queue.value,
        }
        for queue, key in QUEUE_KEYS.items()
    ]
    return render(
        request,
        "dossiers/list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "queues": queues,
            "total": counts["total"],
            "sorts": sorts,
            "any_filter": any(
                v for k, v in request.GET.items() if k not in ("page", "tri", "file")
            ),
        },
    )
