"""The dashboard's figures, per démarche the agent is given, in a fixed number of queries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from demarches.enums import CaseStatus
from demarches.models import Demarche
from dossiers.enums import RunStatus
from dossiers.models import (
    AgentPreference,
    DemarchePoll,
    Dossier,
    IntegrityCheck,
    NotificationFailure,
    OutgoingEvent,
)
from dossiers.records import explanations
from dossiers.records.access import demarches_for, is_technical_admin
from dossiers.records.alerts import preference_for
from dossiers.records.counting import DossierCounts
from dossiers.records.querysets import last_integrity_checks, open_refusals
from dossiers.records.queues import (
    QUEUE_STATUSES,
    UNTREATED,
    Queue,
    queue_of,
    unseen_by,
)
from dossiers.web import charts
from hubee_portal.hubee.vocabulary import LOCKED, label_of

# Two dashboard views closer than this are one visit: "new" does not reset on a reload.
VISIT_GAP = timedelta(minutes=30)
CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = charts.WIDTH, charts.HEIGHT
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 40, charts.BOTTOM, charts.TOP
QUEUE_KEYS = {Queue.TODO: "todo", Queue.WAITING: "waiting", Queue.DONE: "done"}


@dataclass
class DemarcheSummary:
    demarche: Demarche
    by_status: list[tuple[str, str, int]] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)
    total: int = 0
    new: int = 0
    oldest: Dossier | None = None
    # The démarche's last pass with HubEE, idle or not (None: never polled).
    last_poll: DemarchePoll | None = None
    failing: int = 0
    given_up: int = 0
    # Dossiers with a push « en attente d'envoi », and with one « refusé par HubEE » that an
    # agent can still act on (the dossier is not closed).
    sends_waiting: int = 0
    sends_refused: int = 0
    # What I have to do (issue 17): mine and not finished, free ones to take, citizen replies
    # not answered yet.
    mine: int = 0
    to_take: int = 0
    replies: int = 0

    @property
    def oldest_age(self) -> int | None:
        if self.oldest is None:
            return None
        return (timezone.now() - self.oldest.received_at).days

    @property
    def last_run_problem(self) -> str:
        """What to do when the démarche's last pass failed ("" otherwise)."""
        poll = self.last_poll
        if poll is None or poll.status != RunStatus.FAILED:
            return ""
        # A failed pass stopped as a whole: its count of notification errors says nothing here.
        return explanations.run_outcome(poll.status, poll.failure_kind, 1)

    @property
    def oldest_age_label(self) -> str:
        days = self.oldest_age
        if days is None:
            return ""
        if days < 1:
            return "depuis moins d'un jour"
        return f"depuis {days} jour{'s' if days > 1 else ''}"


@dataclass
class FailureRow:
    failure: NotificationFailure
    label: str
    message: str  # French, from the failure's kind: never failure.error


@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    bars: list[Bar]
    maximum: int
    total: int
    ticks: list[tuple[float, str]]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    baseline: float = CHART_HEIGHT - CHART_BOTTOM
    top: int = CHART_TOP


@dataclass
class Dashboard:
    summaries: list[DemarcheSummary]
    new_since: datetime | None
    failures: list[FailureRow]
    chart: Chart
    running: bool
    first_visit: bool = False
    # Administrateurs techniques only: the last integrity check of each démarche they see.
    integrity: list[IntegrityCheck] = field(default_factory=list)
    admin: bool = False

    def total(self, name: str) -> int:
        return sum(getattr(summary, name) for summary in self.summaries)

    @property
    def todo(self) -> dict[str, int]:
        """The « À faire » figures, all démarches together."""
        names = ("mine", "to_take", "replies", "sends_refused", "sends_waiting")
        return {name: self.total(name) for name in names}

    @property
    def oldest(self) -> Dossier | None:
        waiting = [s.oldest for s in self.summaries if s.oldest is not None]
        return min(waiting, key=lambda d: (d.received_at, d.pk)) if waiting else None

    @property
    def enabled_count(self) -> int:
        return sum(1 for s in self.summaries if s.demarche.enabled)

    @property
    def sync_interval(self) -> str:
        return explanations.sync_interval()


def touch_visit(preference: AgentPreference, now: datetime) -> datetime | None:
    """Record this visit; return the start of what counts as new for it (the first visit
    counts from itself: a reload minutes later is no « première visite » any more)."""
    if preference.last_seen_at is None:
        preference.new_since = now
    elif now - preference.last_seen_at > VISIT_GAP:
        preference.new_since = preference.last_seen_at
    preference.last_seen_at = now
    preference.save(update_fields=["last_seen_at", "new_since"])
    return preference.new_since


def build(user, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    preference = preference_for(user)
    first_visit = preference.last_seen_at is None
    new_since = touch_visit(preference, now)
    untreated = Dossier.objects.filter(demarche=OuterRef("pk"), status__in=UNTREATED)
    unfinished = ~Q(status__in=FINISHED)
    demarches = list(
        demarches_for(user)
        .select_related("poll")  # the last pass, in the same query
        .annotate(
            oldest_id=Subquery(untreated.order_by("received_at", "pk").values("pk")[:1]),
            # In the démarches' query: the dashboard stays within its query budget.
            # The same rules as the list's marks and its `envoi` filter.
            # Counted from the few pushes and events concerned, not dossier by dossier.
            sends_waiting=_dossiers_touched(OutgoingEvent.objects.pending()),
            sends_refused=_dossiers_touched(open_refusals().exclude(dossier__status__in=LOCKED)),
            mine=_dossiers_matching(Q(assigned_to=user) & unfinished),
            to_take=_dossiers_matching(Q(assigned_to__isnull=True, status__in=UNTREATED)),
        )
        .order_by("name")
    )
    ids = [d.pk for d in demarches]
    summaries = {d.pk: DemarcheSummary(d) for d in demarches}
    dossiers = Dossier.objects.filter(demarche_id__in=ids)

    # COUNT(*), not of the id: an index-only scan of (démarche, status, received_at); the
    # dossiers new since the last visit counted in the same pass.
    since = new_since or now
    for demarche_id, status, count, new in (
        dossiers.values_list("demarche_id", "status")
        .annotate(n=Count("*"), new=Count("received_at", filter=Q(received_at__gt=since)))
        .order_by()
    ):
        summary = summaries[demarche_id]
        summary.by_status.append((status, label_of(status), count))
        summary.total += count
        summary.new += new
        key = QUEUE_KEYS[queue_of(status)]
        summary.queues[key] = summary.queues.get(key, 0) + count
    order = {status: index for index, status in enumerate(CaseStatus.values)}
    for summary in summaries.values():
        summary.by_status.sort(key=lambda row: order.get(row[0], len(order)))
        for key in QUEUE_KEYS.values():
            summary.queues.setdefault(key, 0)

    # Citizen replies not seen: the few dossiers the citizen wrote on (dossier_citizen_idx),
    # counted here. A démarche filter or a GROUP BY in the query would make SQLite, without
    # statistics, walk every dossier of those démarches in order instead.
    replies = Counter(
        Dossier.objects.filter(unseen_by(user), ~Q(status__in=FINISHED), purged_at__isnull=True)
        .order_by()
        .values_list("demarche_id", flat=True)
    )
    for demarche_id, summary in summaries.items():
        summary.replies = replies[demarche_id]

    oldest = Dossier.objects.in_bulk([d.oldest_id for d in demarches if d.oldest_id])
    for d in demarches:
        summaries[d.pk].oldest = oldest.get(d.oldest_id)
        summaries[d.pk].last_poll = getattr(d, "poll", None)
        for name in ("sends_waiting", "sends_refused", "mine", "to_take"):
            setattr(summaries[d.pk], name, getattr(d, name))

    open_failures = NotificationFailure.objects.filter(
        demarche_id__in=ids, resolved_at__isnull=True
    )
    for demarche_id, failing, given_up in (
        open_failures.values_list("demarche_id")
        .annotate(
            failing=Count("pk", filter=Q(given_up=False)),
            given_up=Count("pk", filter=Q(given_up=True)),
        )
        .order_by()
    ):
        summaries[demarche_id].failing = failing
        summaries[demarche_id].given_up = given_up

    failures = list(
        open_failures.select_related("demarche").order_by("given_up", "-last_attempt_at")[:20]
    )
    return Dashboard(
        summaries=[summaries[d.pk] for d in demarches],
        new_since=new_since,
        first_visit=first_visit,
        failures=[
            FailureRow(
                failure,
                explanations.failure_label(failure.kind),
                explanations.notification_failure(failure.kind, failure.given_up),
            )
            for failure in failures
        ],
        chart=chart(ids, now),
        # The sync log is on « État du portail »; here only whether one runs now.
        running=any(
            s.last_poll is not None and s.last_poll.status == RunStatus.RUNNING
            for s in summaries.values()
        ),
        integrity=last_integrity_checks(ids) if is_technical_admin(user) else [],
        admin=is_technical_admin(user),
    )


FINISHED = QUEUE_STATUSES[Queue.DONE]


def _dossiers_touched(rows: QuerySet) -> Coalesce:
    """How many dossiers of the démarche (OuterRef), not purged, `rows` (pushes or events,
    with a `dossier` key) concern."""
    counted = (
        rows.filter(dossier__demarche=OuterRef("pk"), dossier__purged_at__isnull=True)
        .order_by()
        .values("dossier__demarche")
        .annotate(n=Count("dossier", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _dossiers_matching(condition: Q) -> Coalesce:
    """How many dossiers of the démarche (OuterRef) match `condition` (a push waiting, a
    holder…): a subquery in the démarches' query, within the query budget."""
    dossiers = (
        # Purged dossiers are out of the list: never counted here either.
        Dossier.objects.filter(condition, demarche=OuterRef("pk"), purged_at__isnull=True)
        .order_by()
        .values("demarche")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(dossiers, output_field=IntegerField()), 0)


def _received_per_day(demarche_ids: list[int], starts: list[datetime]) -> dict[int, int]:
    """One count per local day, between two instants, in one query (records.counting): each a
    range of the (démarche, received_at) index read alone, with no date conversion of each row
    (a Python function on SQLite)."""
    if not demarche_ids:
        return {}
    counts = DossierCounts()
    demarche, received = counts.column("demarche"), counts.column("received_at")
    moments = [counts.moment(moment) for moment in starts]
    marks = ", ".join(["%s"] * len(demarche_ids))
    for index in range(len(starts) - 1):
        counts.add(
            index,
            f"{demarche} IN ({marks}) AND {received} >= %s AND {received} < %s",
            *demarche_ids,
            moments[index],
            moments[index + 1],
        )
    return counts.run()


def chart(demarche_ids: list[int], now: datetime) -> Chart:
    """Dossiers received per day over the last CHART_DAYS days, as SVG bar geometry."""
    today = timezone.localdate(now)
    first = today - timedelta(days=CHART_DAYS - 1)
    days = [first + timedelta(days=i) for i in range(CHART_DAYS + 1)]
    starts = [timezone.make_aware(datetime.combine(day, datetime.min.time())) for day in days]
    days.pop()  # the day after today: only its start, the end of the range
    by_day = _received_per_day(demarche_ids, starts)
    counts = {day: by_day.get(index, 0) for index, day in enumerate(days)}
    maximum = max([counts.get(day, 0) for day in days] + [1])
    bars = [
        Bar(
            day=day,
            count=counts.get(day, 0),
            **charts.bar_box(index, counts.get(day, 0), maximum, CHART_DAYS, CHART_LEFT),
        )
        for index, day in enumerate(days)
    ]
    ticks = [
        (charts.tick_x(index, CHART_DAYS, CHART_LEFT), day.strftime("%d/%m"))
        for index, day in enumerate(days)
        if (index % 7 == 0 and index < CHART_DAYS - 4) or index == CHART_DAYS - 1
    ]
    return Chart(bars=bars, maximum=maximum, total=sum(b.count for b in bars), ticks=ticks)
