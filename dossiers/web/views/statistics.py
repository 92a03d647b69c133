"""Statistics per démarche: the démarches one may see, each démarche's page with its charts
and tables, and the same figures as CSV. Who sees them: the démarche's agents, superusers and
holders of « Voir tous les dossiers » (dossiers.records.access.demarches_for)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dossiers.records import statistics
from dossiers.records.access import demarches_for, require_demarche
from dossiers.records.statistics import DEFAULT_PERIOD, PERIODS, Statistics, duration
from dossiers.web import charts as svg
from dossiers.web.views.export import FORMULA_STARTS

CHART_WIDTH, CHART_HEIGHT = svg.WIDTH, svg.HEIGHT
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 48, svg.BOTTOM, svg.TOP


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    key: str  # the ids of its title, description and table
    title: str
    unit: str  # what a value counts, for the table's header
    bars: list[Bar]
    maximum: int
    ticks: list[tuple[float, str]]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    baseline: float = CHART_HEIGHT - CHART_BOTTOM
    top: int = CHART_TOP


def bar_chart(key: str, title: str, unit: str, points: list[tuple[str, str, int]]) -> Chart:
    """SVG geometry of one bar per week; `points` are (tick label, full label, value)."""
    maximum = max([value for _, _, value in points] + [1])
    slots = len(points)
    every = max(1, slots // 6)  # about six dates under the axis, even at 52 weeks
    bars = [
        Bar(label=label, value=value, **svg.bar_box(index, value, maximum, slots, CHART_LEFT))
        for index, (_tick, label, value) in enumerate(points)
    ]
    ticks = [
        (svg.tick_x(index, slots, CHART_LEFT), tick)
        for index, (tick, _label, _value) in enumerate(points)
        if index % every == 0
    ]
    return Chart(key, title, unit, bars, maximum, ticks)


def charts(figures: Statistics) -> list[Chart]:
    def points(name: str) -> list[tuple[str, str, int]]:
        return [
            (
                f"{week.start:%d/%m}",
                f"semaine du {week.start:%d/%m/%Y}",
                getattr(week, name),
            )
            for week in figures.weeks
        ]

    return [
        bar_chart("recus", "Dossiers reçus par semaine", "Dossiers reçus", points("received")),
        bar_chart("decisions", "Décisions par semaine", "Décisions", points("decided")),
        bar_chart(
            "stock",
            "Stock de dossiers sans décision, en fin de semaine",
            "Stock",
            points("backlog"),
        ),
    ]


def _period(request: HttpRequest) -> int:
    try:
        weeks = int(request.GET.get("semaines", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return weeks if weeks in PERIODS else DEFAULT_PERIOD


@require_GET
def statistics_index(request: HttpRequest) -> HttpResponse:
    demarches = demarches_for(request.user).order_by("name")
    return render(request, "dossiers/statistics_index.html", {"demarches": demarches})


@require_GET
def statistics_demarche(request: HttpRequest, pk: int) -> HttpResponse:
    demarche = require_demarche(request.user, pk)
    weeks = _period(request)
    figures = statistics.compute(demarche, weeks)
    return render(
        request,
        "dossiers/statistics.html",
        {
            "demarche": demarche,
            "figures": figures,
            "weeks": weeks,
            "periods": PERIODS,
            "charts": charts(figures),
            "summary": summary(figures),
        },
    )


def summary(figures: Statistics) -> list[tuple[str, str, str]]:
    """The headline figures: (label, as shown on the page, as written in the CSV)."""
    share = figures.refused_share
    rows = [
        ("Dossiers reçus", str(figures.received), str(figures.received)),
        ("Décisions", str(figures.decided), str(figures.decided)),
        ("dont refus", str(figures.refused), str(figures.refused)),
        (
            "Part des refus parmi les décisions",
            "—" if share is None else f"{_decimal(share)} %",
            "" if share is None else _decimal(share),
        ),
        (
            "Stock sans décision aujourd'hui",
            str(figures.backlog),
            str(figures.backlog),
        ),
    ]
    for name, delay in (("première action", figures.first_action), ("décision", figures.decision)):
        rows += [
            (f"Dossiers mesurés pour le délai de {name}", str(delay.count), str(delay.count)),
            (f"Délai de {name}, médiane", duration(delay.median), _hours(delay.median)),
            (f"Délai de {name}, 90e centile", duration(delay.p90), _hours(delay.p90)),
        ]
    return rows


def _decimal(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _hours(seconds: int | None) -> str:
    return "" if seconds is None else _decimal(seconds / 3600)


CSV_SUMMARY = ["Indicateur", "Valeur"]
CSV_WEEKS = ["Semaine du", "Dossiers reçus", "Décisions", "dont refus", "Stock en fin de semaine"]


@require_GET
def statistics_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's figures for French Excel (UTF-8 with BOM, `;`): the headline figures (delays
    in hours), then the weeks."""
    demarche = require_demarche(request.user, pk)
    weeks = _period(request)
    figures = statistics.compute(demarche, weeks)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    out.write("\ufeff")
    writer.writerow(CSV_SUMMARY)
    # A démarche's name is written by an administrator: no formula for a spreadsheet.
    name = demarche.name
    writer.writerow(["Démarche", f"'{name}" if name.startswith(FORMULA_STARTS) else name])
    writer.writerow(["Période", f"{weeks} semaines depuis le {figures.start:%d/%m/%Y}"])
    for label, _, value in summary(figures):
        unit = " (heures)" if label.startswith("Délai") else ""
        unit = " (%)" if label.startswith("Part") else unit
        writer.writerow([label + unit, value])
    writer.writerow([])
    writer.writerow(CSV_WEEKS)
    for week in figures.weeks:
        writer.writerow(
            [f"{week.start:%d/%m/%Y}", week.received, week.decided, week.refused, week.backlog]
        )
    filename = f"statistiques-{demarche.pk}-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
