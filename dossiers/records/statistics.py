"""A démarche's statistics over its last weeks, in two queries whatever its volume.

Definitions (docs/exploitation.md, « Statistiques »), from the columns the exchange keeps on
each dossier (dossiers.exchange.outbound.queue.note_milestones):
- first action: the first push an agent queued (no automatic status), `first_action_at`;
- decision: the first DONE or REFUSED queued, by an agent or automatic, `decided_at` and
  `decision`;
- delays: from `received_at` (the portal received the dossier) to those, in whole seconds;
- backlog at the end of a week: dossiers received before its end minus dossiers decided before
  its end, all time;
- purged dossiers count (the retention purge keeps their row and these columns).

Percentiles are *nearest rank*: the p-th percentile of n sorted values is the value at rank
ceil(p × n / 100), counted from 1 (the median is p = 50). No interpolation: every figure shown
is a delay that a real dossier had. Each is read as « ORDER BY delay LIMIT 1 OFFSET rank - 1 »
from a (démarche, delay, received_at) index, never by loading the delays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import IntegerField, QuerySet, Subquery
from django.utils import timezone

from demarches.models import Demarche
from dossiers.enums import CaseStatus
from dossiers.models import Dossier
from dossiers.records.counting import DossierCounts

PERIODS = (12, 26, 52)  # weeks
DEFAULT_PERIOD = 12
QUANTILES = (50, 90)
DELAYS = ("first_action_delay", "decision_delay")
# The codes of the counts in the one query: kind * STEP + week index.
RECEIVED, DECIDED, REFUSED, BEFORE, MEASURED = range(5)
STEP = 1000


def nearest_rank(percent: int, count: int) -> int:
    """The 1-based rank of the `percent`-th percentile of `count` sorted values."""
    return max(1, math.ceil(percent * count / 100))


@dataclass
class Week:
    start: date
    received: int
    decided: int
    refused: int
    backlog: int  # at the end of the week (now, for the current one)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass
class Delay:
    """A delay's percentiles (seconds, None without any value) over `count` dossiers."""

    count: int
    median: int | None = None
    p90: int | None = None


@dataclass
class Statistics:
    demarche: Demarche
    weeks: list[Week]
    first_action: Delay
    decision: Delay

    @property
    def start(self) -> date:
        return self.weeks[0].start

    @property
    def received(self) -> int:
        return sum(week.received for week in self.weeks)

    @property
    def decided(self) -> int:
        return sum(week.decided for week in self.weeks)

    @property
    def refused(self) -> int:
        return sum(week.refused for week in self.weeks)

    @property
    def refused_share(self) -> float | None:
        """Refusals among the decisions of the period, in percent (None without decision)."""
        return 100 * self.refused / self.decided if self.decided else None

    @property
    def backlog(self) -> int:
        return self.weeks[-1].backlog


def week_starts(weeks: int, now: datetime) -> list[datetime]:
    """The local Mondays 00:00 of the last `weeks` weeks (the current one last), then the next
    Monday: weeks + 1 instants."""
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    return [
        timezone.make_aware(datetime.combine(first + timedelta(weeks=i), datetime.min.time()))
        for i in range(weeks + 1)
    ]


def _counts(demarche: Demarche, starts: list[datetime]) -> dict[int, int]:
    """Every count in one query (records.counting), each a range of an index read alone (no
    row): received, decided and refused per week, received and decided before the period,
    dossiers of the period with each delay."""
    counts = DossierCounts()
    column = counts.column
    demarche_id, received_at, decided_at = (
        column(name) for name in ("demarche", "received_at", "decided_at")
    )
    # SQLite would count the period's measured dossiers on the (démarche, received_at) index,
    # row by row; a unary + keeps it on the delay's index, which holds received_at too.
    guard = "+" if connection.vendor == "sqlite" else ""
    moments = [counts.moment(moment) for moment in starts]

    def count(code: int, condition: str, *values) -> None:
        counts.add(code, f"{demarche_id} = %s AND {condition}", demarche.pk, *values)

    def between(name: str) -> str:
        return f"{name} >= %s AND {name} < %s"

    for index in range(len(starts) - 1):
        since, until = moments[index], moments[index + 1]
        count(RECEIVED * STEP + index, between(received_at), since, until)
        count(DECIDED * STEP + index, between(decided_at), since, until)
        refused = f"{between(decided_at)} AND {column('decision')} = %s"
        count(REFUSED * STEP + index, refused, since, until, str(CaseStatus.REFUSED))
    count(BEFORE * STEP + RECEIVED, f"{received_at} < %s", moments[0])
    count(BEFORE * STEP + DECIDED, f"{decided_at} < %s", moments[0])
    period = f"{guard}{received_at} >= %s AND {guard}{received_at} < %s"
    for index, name in enumerate(DELAYS):
        measured = f"{column(name)} IS NOT NULL AND {period}"
        count(MEASURED * STEP + index, measured, moments[0], moments[-1])
    return counts.run()


def compute(demarche: Demarche, weeks: int = DEFAULT_PERIOD, now: datetime | None = None):
    """The démarche's figures over its last `weeks` weeks (the current one included)."""
    starts = week_starts(weeks, now or timezone.now())
    rows = Dossier.objects.filter(demarche=demarche)
    in_period = {"received_at__gte": starts[0], "received_at__lt": starts[-1]}
    counts = _counts(demarche, starts)

    def got(kind: int, index: int) -> int:
        return counts.get(kind * STEP + index, 0)

    delays = [Delay(got(MEASURED, index)) for index in range(len(DELAYS))]
    _read_percentiles(rows, in_period, delays, demarche)

    received_before, decided_before = got(BEFORE, RECEIVED), got(BEFORE, DECIDED)
    table = []
    for index in range(weeks):
        received_before += got(RECEIVED, index)
        decided_before += got(DECIDED, index)
        table.append(
            Week(
                start=timezone.localdate(starts[index]),
                received=got(RECEIVED, index),
                decided=got(DECIDED, index),
                refused=got(REFUSED, index),
                backlog=received_before - decided_before,
            )
        )
    return Statistics(demarche, table, first_action=delays[0], decision=delays[1])


def _read_percentiles(rows: QuerySet, in_period: dict, delays: list[Delay], demarche) -> None:
    """Every percentile in one query: a scalar subquery each, « ORDER BY delay OFFSET k »."""
    columns = {}
    for delay, figures in zip(DELAYS, delays, strict=True):
        if not figures.count:
            continue
        measured = rows.filter(**{f"{delay}__isnull": False}, **in_period).order_by(delay)
        for percent in QUANTILES:
            rank = nearest_rank(percent, figures.count)
            columns[f"{delay}_{percent}"] = Subquery(
                measured.values(delay)[rank - 1 : rank], output_field=IntegerField()
            )
    if not columns:
        return
    values = Demarche.objects.filter(pk=demarche.pk).values(**columns).get()
    for delay, figures in zip(DELAYS, delays, strict=True):
        if figures.count:
            figures.median = values[f"{delay}_50"]
            figures.p90 = values[f"{delay}_90"]


def duration(seconds: int | None) -> str:
    """A delay in French, in days and hours (minutes under an hour)."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        minutes = seconds // 60
        if minutes < 1:
            return "moins d'une minute"
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    days, hours = divmod(round(seconds / 3600), 24)
    text = []
    if days:
        text.append(f"{days} jour{'s' if days > 1 else ''}")
    if hours:
        text.append(f"{hours} heure{'s' if hours > 1 else ''}")
    return " et ".join(text)
