"""The dossier list: search, filters, sort, queues and pages, in a fixed number of queries."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from demarches.models import Demarche
from dossiers.enums import AuditAction
from dossiers.records import audit, tallies
from dossiers.records.access import demarches_for, dossiers_for
from dossiers.records.querysets import with_send_marks, with_unread
from dossiers.records.queues import (
    ASSIGNED_ME,
    ASSIGNED_NOBODY,
    QUEUE_STATUSES,
    UNTREATED,
    Queue,
    with_citizen_marks,
)
from dossiers.web.bulk import BULK_CHOICES, MAX_SELECTION
from dossiers.web.filters import MORE_FILTERS, SORT_LABELS, DossierFilter, more_filters_open

QUEUE_KEYS = {Queue.TODO: "todo", Queue.WAITING: "waiting", Queue.DONE: "done"}


class CountedPaginator(Paginator):
    """A paginator told its count, so that it runs no COUNT query of its own.

    The object list must be ordered on a unique key (the list always ends its order with the
    id), so that the reversed order is the exact mirror of the order. `decorate` makes the
    page's rows from a queryset of their ids (annotations, joins, the same order).
    """

    def __init__(self, object_list, per_page, count: int, decorate):
        super().__init__(object_list, per_page)
        self.count = count
        self.decorate = decorate

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        # Pages past the middle are counted from the end, in the reversed order: the last page
        # skips no row instead of all the others.
        if bottom > self.count - top:
            ids = self.object_list.reverse()[self.count - top : self.count - bottom]
        else:
            ids = self.object_list[bottom:top]
        # OFFSET walks the index for ids only; the full rows and their marks are computed for
        # the page's ids alone, not for every row skipped before them, and the filters are not
        # evaluated a second time around them.
        rows = self.decorate(self.object_list.model.objects.filter(pk__in=ids.values("pk")))
        return self._get_page(rows, number, self)


# The filters the running counts answer (dossiers.records.tallies); any other filter counts
# the filtered dossiers themselves.
TALLIED_FILTERS = frozenset({"demarche", "status", "statut_hubee", "attribue", "file", "tri"})


def tallied_groups(filterset, user):
    """The (démarche, status) counts read from the running counts, or None when a filter set
    needs the dossiers themselves."""
    if not filterset.is_bound:
        return tallies.counts(None if user.is_superuser else demarches_for(user))
    if not filterset.form.is_valid():
        return None
    data = filterset.form.cleaned_data
    if any(value for name, value in data.items() if name not in TALLIED_FILTERS):
        return None
    demarches = None if user.is_superuser else demarches_for(user)
    if data.get("demarche"):
        demarches = (demarches if demarches is not None else Demarche.objects).filter(
            pk=data["demarche"].pk
        )
    statuses = {value for value in (data.get("status"), data.get("statut_hubee")) if value}
    if len(statuses) > 1:
        return {}  # two different statuses: no dossier has both
    assigned = tallies.ANYONE
    if value := data.get("attribue"):
        assigned = (
            user.pk if value == ASSIGNED_ME else None if value == ASSIGNED_NOBODY else int(value)
        )
    return tallies.counts(demarches, statuses, assigned)


def queue_counts(filtered, groups=None) -> tuple[int, dict[str, int]]:
    """The total and the count of each queue, from one grouped query.

    From the running counts when `groups` is given; otherwise grouped by (démarche, status) to
    read the (démarche, status, purged_at) index in its order: an index-only scan, no sort.
    """
    counts = dict.fromkeys(QUEUE_KEYS.values(), 0)
    total = 0
    if groups is None:
        groups = filtered.order_by().values_list("demarche_id", "status").annotate(n=Count("*"))
    else:
        groups = ((demarche, status, n) for (demarche, status), n in groups.items())
    for _demarche, status, number in groups:
        total += number
        for queue, key in QUEUE_KEYS.items():
            if status in QUEUE_STATUSES[queue]:
                counts[key] += number
    return total, counts


def team_agents(user) -> list:
    """Whom the « Attribué à » filter and « Confier à » offer: the active agents habilitated on
    the démarches the user sees (one query)."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, demarches__in=demarches_for(user).values("pk"))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def mine_count(user) -> int:
    """« Mes dossiers »: the dossiers the user is in charge of, whatever the filters (read on
    the (assigned_to, received_at) index)."""
    return dossiers_for(user).filter(assigned_to=user).order_by().count()


@require_GET
def dossier_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    # `unread` for the « Non lus seulement » filter; the marks are the page's (decorate below).
    base = with_unread(dossiers_for(user), user)
    agents = team_agents(user)
    filterset = DossierFilter(request.GET or None, queryset=base, user=user, agents=agents)
    filtered = filterset.qs
    total, counts = queue_counts(filtered, tallied_groups(filterset, user))
    rows = filterset.in_queue(filtered)
    # A stable order across pages.
    ordering = [*(list(rows.query.order_by) or ["-received_at"]), "-pk"]

    def decorate(page_rows):
        page_rows = page_rows.select_related("demarche", "assigned_to")
        return with_citizen_marks(with_send_marks(with_unread(page_rows, user))).order_by(*ordering)

    # The rows are `filtered` restricted to the queue: the counts above already number them.
    count = counts[QUEUE_KEYS[filterset.queue]] if filterset.queue else total
    paginator = CountedPaginator(
        rows.order_by(*ordering), settings.DOSSIERS_PER_PAGE, count, decorate
    )
    page = paginator.get_page(request.GET.get("page"))
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
            "total": total,
            "sorts": sorts,
            "any_filter": any(
                v for k, v in request.GET.items() if k not in ("page", "tri", "file", "tout")
            ),
            "more_open": more_filters_open(filterset),
            "more_names": MORE_FILTERS,
            "mine": {
                "count": mine_count(user),
                "current": request.GET.get("attribue") == "moi",
            },
            "agents": agents,
            "select_all": request.GET.get("tout") == "1",
            "todo_statuses": UNTREATED,
            "bulk_actions": BULK_CHOICES,
            "bulk_max": MAX_SELECTION,
        },
    )
