"""The statistics of a démarche (dossiers.records.statistics): the SQL figures against a plain
Python computation on the same fixture, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.records import statistics
from dossiers.records.statistics import duration, nearest_rank, week_starts
from tests.factories import DemarcheFactory, DossierFactory

pytestmark = pytest.mark.django_db


def _percentile(values: list[int], percent: int) -> int | None:
    """Nearest rank, written independently: the smallest value with at least `percent` % of
    the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    for value in ordered:
        if sum(v <= value for v in ordered) * 100 >= percent * len(ordered):
            return value
    raise AssertionError


def _fixture(demarche, rng: random.Random, now, count: int) -> None:
    """Dossiers over 20 weeks and older: some acted on, some decided (refused or not, by an
    agent or automatically, so without first action), some purged, some untouched."""
    rows = []
    for _ in range(count):
        received = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 7 * 20))
        row = {"received_at": received, "status": "SI_RECEIVED"}
        kind = rng.random()
        if kind < 0.7:  # an agent acted
            delay = rng.randrange(0, 60 * 60 * 24 * 12)
            row |= {"first_action_at": received + timedelta(seconds=delay)}
            row["first_action_delay"] = delay
        if 0.3 < kind < 0.95:  # decided (by the agent, or automatically when kind >= 0.7)
            delay = rng.randrange(0, 60 * 60 * 24 * 30)
            row |= {
                "decided_at": received + timedelta(seconds=delay),
                "decision_delay": delay,
                "decision": rng.choice(["DONE", "REFUSED"]),
            }
        if rng.random() < 0.15:
            row["purged_at"] = now
        rows.append(row)
    for row in rows:
        DossierFactory(demarche=demarche, **row)


def _expected(demarche, weeks: int, now):
    first = week_starts(weeks, now)[0]
    first_day = timezone.localdate(first)
    dossiers = list(Dossier.objects.filter(demarche=demarche))
    in_period = [d for d in dossiers if first <= d.received_at < now + timedelta(days=7)]

    def week_of(moment):
        return (timezone.localdate(moment) - first_day).days // 7

    received = [sum(week_of(d.received_at) == w for d in dossiers) for w in range(weeks)]
    decided = [
        sum(d.decided_at is not None and week_of(d.decided_at) == w for d in dossiers)
        for w in range(weeks)
    ]
    refused = [
        sum(
            d.decided_at is not None and week_of(d.decided_at) == w and d.decision == "REFUSED"
            for d in dossiers
        )
        for w in range(weeks)
    ]
    ends = week_starts(weeks, now)[1:]
    backlog = [
        sum(d.received_at < end for d in dossiers)
        - sum(d.decided_at is not None and d.decided_at < end for d in dossiers)
        for end in ends
    ]
    delays = {}
    for name in ("first_action_delay", "decision_delay"):
        values = [getattr(d, name) for d in in_period if getattr(d, name) is not None]
        delays[name] = (len(values), _percentile(values, 50), _percentile(values, 90))
    return received, decided, refused, backlog, delays


@pytest.mark.parametrize("weeks", [12, 26])
def test_the_figures_match_a_python_computation(weeks):
    rng = random.Random(18)
    now = timezone.now()
    demarches = [DemarcheFactory(name=f"Démarche {i}") for i in range(3)]
    for demarche, count in zip(demarches, (150, 60, 1), strict=True):
        _fixture(demarche, rng, now, count)
    empty = DemarcheFactory(name="Sans dossier")
    for demarche in [*demarches, empty]:
        figures = statistics.compute(demarche, weeks, now)
        received, decided, refused, backlog, delays = _expected(demarche, weeks, now)
        assert [w.received for w in figures.weeks] == received
        assert [w.decided for w in figures.weeks] == decided
        assert [w.refused for w in figures.weeks] == refused
        assert [w.backlog for w in figures.weeks] == backlog
        for name, delay in (
            ("first_action_delay", figures.first_action),
            ("decision_delay", figures.decision),
        ):
            assert (delay.count, delay.median, delay.p90) == delays[name], (demarche, name)
    # The fixture is rich enough for the comparison to mean something.
    big = statistics.compute(demarches[0], weeks, now)
    assert big.first_action.count > 30 and big.decision.count > 30
    assert big.first_action.median != big.first_action.p90
    assert 0 < big.refused < big.decided
    assert big.backlog > 0


def test_nearest_rank():
    assert [nearest_rank(50, n) for n in (1, 2, 3, 4, 10)] == [1, 1, 2, 2, 5]
    assert [nearest_rank(90, n) for n in (1, 9, 10, 11, 20)] == [1, 9, 9, 10, 18]


def test_purged_dossiers_count_and_other_demarches_do_not():
    now = timezone.now()
    demarche, other = DemarcheFactory(), DemarcheFactory()
    DossierFactory(demarche=demarche, received_at=now, purged_at=now)
    DossierFactory(
        demarche=demarche,
        received_at=now - timedelta(hours=3),
        decided_at=now,
        decision="REFUSED",
        decision_delay=3 * 3600,
    )
    DossierFactory(demarche=other, received_at=now, decided_at=now, decision_delay=60)
    figures = statistics.compute(demarche, 12, now)
    assert figures.received == 2 and figures.decided == 1 and figures.refused == 1
    assert figures.refused_share == 100
    assert figures.backlog == 1
    assert (figures.decision.count, figures.decision.median) == (1, 3 * 3600)


def test_two_queries_whatever_the_volume():
    demarche = DemarcheFactory()
    now = timezone.now()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            statistics.compute(demarche, 52, now)
        return len(captured.captured_queries)

    _fixture(demarche, random.Random(1), now, 5)
    few = queries()
    _fixture(demarche, random.Random(2), now, 80)
    assert few == queries() == 2


def test_durations_read_in_french():
    assert duration(None) == "—"
    assert duration(30) == "moins d'une minute"
    assert duration(61) == "1 minute"
    assert duration(59 * 60) == "59 minutes"
    assert duration(3600) == "1 heure"
    assert duration(5 * 3600 + 10) == "5 heures"
    assert duration(24 * 3600) == "1 jour"
    assert duration(2 * 24 * 3600 + 3 * 3600) == "2 jours et 3 heures"
