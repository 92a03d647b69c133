"""The statistics pages and their CSV: who sees them, what they show, their query budget."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.records import statistics
from tests.conftest import log_in
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    UserFactory,
    agent_for,
    staff_with,
)

pytestmark = pytest.mark.django_db
INDEX = reverse("dossiers:statistics")


def page(demarche) -> str:
    return reverse("dossiers:statistics-demarche", args=[demarche.pk])


def csv_url(demarche) -> str:
    return reverse("dossiers:statistics-csv", args=[demarche.pk])


@pytest.fixture
def demarches():
    mine = DemarcheFactory(name="Actes de naissance")
    other = DemarcheFactory(name="Recensement citoyen")
    now = timezone.now()
    for hours, decision in ((30, "DONE"), (50, "REFUSED"), (70, None)):
        received = now - timedelta(hours=hours)
        DossierFactory(
            demarche=mine,
            received_at=received,
            first_action_at=received + timedelta(hours=2),
            first_action_delay=2 * 3600,
            decided_at=received + timedelta(hours=26) if decision else None,
            decision=decision or "",
            decision_delay=26 * 3600 if decision else None,
        )
    DossierFactory(demarche=other, received_at=now)
    return mine, other


def test_an_agent_sees_their_demarches_only(client, demarches):
    mine, other = demarches
    log_in(client, agent_for(mine))
    index = client.get(INDEX).content.decode()
    assert "Actes de naissance" in index and "Recensement citoyen" not in index
    assert client.get(page(mine)).status_code == 200
    assert client.get(page(other)).status_code == 404
    assert client.get(csv_url(other)).status_code == 404


def test_a_technical_admin_without_habilitation_sees_nothing(client, demarches):
    mine, _ = demarches
    log_in(client, UserFactory(is_staff=True))
    index = client.get(INDEX).content.decode()
    assert "Aucune démarche ne vous est encore confiée" in index
    assert "Actes de naissance" not in index
    assert client.get(page(mine)).status_code == 404
    assert client.get(csv_url(mine)).status_code == 404


@pytest.mark.parametrize(
    "make",
    [
        lambda: staff_with("dossiers.view_all_dossiers", is_staff=False),
        lambda: AdminFactory(),
    ],
    ids=["supervisor", "superuser"],
)
def test_supervisors_and_superusers_see_every_demarche(client, demarches, make):
    log_in(client, make())
    index = client.get(INDEX).content.decode()
    for demarche in demarches:
        assert demarche.name in index
        assert client.get(page(demarche)).status_code == 200
        assert client.get(csv_url(demarche)).status_code == 200


def test_anonymous_is_sent_to_the_login(client, demarches):
    for url in (INDEX, page(demarches[0]), csv_url(demarches[0])):
        assert client.get(url).status_code == 302


def test_the_page_shows_figures_definitions_charts_and_tables(client, demarches):
    mine, _ = demarches
    log_in(client, agent_for(mine))
    response = client.get(page(mine))
    html = response.content.decode()
    assert "<title>Statistiques — Actes de naissance — Commune de Nice</title>" in html
    figures = response.context["figures"]
    assert (figures.received, figures.decided, figures.refused, figures.backlog) == (3, 2, 1, 1)
    assert figures.first_action.median == 2 * 3600
    assert "2 heures" in html and "1 jour et 2 heures" in html and "50,0 %" in html
    assert "Du dépôt reçu par le portail à la première action d'un agent" in html
    assert "reçus pendant cette période" in html
    assert html.count('role="img"') == 3
    assert html.count("<caption>") == 3
    assert 'scope="row"' in html and 'scope="col"' in html
    assert 'aria-current="true">Statistiques</a>' in html  # the navigation, in the section
    assert 'aria-current="page">Statistiques</a>' in client.get(INDEX).content.decode()


def test_the_period_is_chosen_among_the_offered_ones(client, demarches):
    mine, _ = demarches
    log_in(client, agent_for(mine))
    assert len(client.get(page(mine), {"semaines": "26"}).context["figures"].weeks) == 26
    for wrong in ("7", "abc", "-1"):
        weeks = client.get(page(mine), {"semaines": wrong}).context["figures"].weeks
        assert len(weeks) == statistics.DEFAULT_PERIOD


def test_the_csv_has_the_same_figures(client, demarches):
    mine, _ = demarches
    log_in(client, agent_for(mine))
    shown = client.get(page(mine), {"semaines": "26"}).context
    response = client.get(csv_url(mine), {"semaines": "26"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    summary = dict(row for row in lines[: lines.index([])] if len(row) == 2)
    assert summary["Dossiers reçus"] == "3"
    assert summary["Part des refus parmi les décisions (%)"] == "50,0"
    assert summary["Délai de première action, médiane (heures)"] == "2,0"
    assert summary["Délai de décision, 90e centile (heures)"] == "26,0"
    weeks = lines[lines.index([]) + 1 :]
    assert weeks[0] == [
        "Semaine du",
        "Dossiers reçus",
        "Décisions",
        "dont refus",
        "Stock en fin de semaine",
    ]
    assert [
        [
            w.start.strftime("%d/%m/%Y"),
            str(w.received),
            str(w.decided),
            str(w.refused),
            str(w.backlog),
        ]
        for w in shown["figures"].weeks
    ] == weeks[1:]
    assert len(weeks) == 27


def test_query_count_does_not_grow_with_data(client):
    demarche = DemarcheFactory()
    log_in(client, agent_for(demarche))

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"semaines": "52"}).status_code == 200
        return len(captured.captured_queries)

    now = timezone.now()
    DossierFactory(demarche=demarche, first_action_delay=60, decision_delay=60, decided_at=now)
    small = queries(page(demarche)), queries(csv_url(demarche)), queries(INDEX)
    for days in range(40):
        DossierFactory(
            demarche=demarche,
            received_at=now - timedelta(days=days * 5),
            first_action_delay=days * 100,
            decision_delay=days * 200,
            decided_at=now - timedelta(days=days),
            decision="REFUSED",
        )
    assert (queries(page(demarche)), queries(csv_url(demarche)), queries(INDEX)) == small
    # session, user, démarche, counts, percentiles; the list: session, user, démarches
    assert small == (5, 5, 3)


def test_a_demarche_name_is_never_a_formula_in_the_csv(client):
    demarche = DemarcheFactory(name="=HYPERLINK(1)")
    log_in(client, agent_for(demarche))
    text = client.get(csv_url(demarche)).content.decode("utf-8")
    assert "Démarche;'=HYPERLINK(1)" in text
