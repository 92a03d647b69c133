"""The dossier list: search, filters, queues, sort, pages, unread — and a constant query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import AuditEntry, DossierView
from dossiers.records.queues import QUEUE_STATUSES
from tests.conftest import log_in
from tests.factories import (
    DemarcheFactory,
    DossierFactory,
    EvenementFactory,
    PieceJointeFactory,
    UserFactory,
    agent_for,
    staff_with,
)

pytestmark = pytest.mark.django_db
URL = reverse("dossiers:list")


def listed(response) -> list[str]:
    return [d.external_id for d in response.context["page_obj"]]


@pytest.fixture
def setup(client):
    a = DemarcheFactory(name="Actes")
    b = DemarcheFactory(name="Recensement")
    now = timezone.now()
    d1 = DossierFactory(
        demarche=a,
        external_id="DILA-AEC-1",
        applicant_first_name="Camille",
        applicant_last_name="Martin",
        applicant_email="camille.martin@ex.fr",
        status="HUBEE_NOTIFIED",
        received_at=now - timedelta(days=10),
    )
    d2 = DossierFactory(
        demarche=a,
        external_id="DILA-AEC-2",
        applicant_first_name="Dominique",
        applicant_last_name="Durand",
        applicant_email="dd@ex.fr",
        status="ADD_AWAITING",
        received_at=now - timedelta(days=3),
    )
    d3 = DossierFactory(
        demarche=b,
        external_id="DILA-RCO-3",
        applicant_first_name="Alex",
        applicant_last_name="Bernard",
        applicant_email="alex@ex.fr",
        status="DONE",
        received_at=now - timedelta(days=1),
    )
    agent = agent_for(a, b)
    log_in(client, agent)
    return {"a": a, "b": b, "d1": d1, "d2": d2, "d3": d3, "agent": agent, "client": client}


def test_default_order_is_newest_first(setup):
    response = setup["client"].get(URL)
    assert response.status_code == 200
    assert listed(response) == ["DILA-RCO-3", "DILA-AEC-2", "DILA-AEC-1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AEC-2", ["DILA-AEC-2"]),  # external id
        ("martin", ["DILA-AEC-1"]),  # last name, any case
        ("Dominique", ["DILA-AEC-2"]),  # first name
        ("alex@ex", ["DILA-RCO-3"]),  # e-mail
        ("camille martin", ["DILA-AEC-1"]),  # every word must match
        ("camille durand", []),
    ],
)
def test_search(setup, query, expected):
    assert listed(setup["client"].get(URL, {"q": query})) == expected


def test_search_by_hubee_case_id(setup):
    d2 = setup["d2"]
    assert listed(setup["client"].get(URL, {"q": str(d2.hubee_case_id)})) == ["DILA-AEC-2"]


def test_filters_demarche_status_and_period(setup):
    client = setup["client"]
    assert listed(client.get(URL, {"demarche": setup["b"].pk})) == ["DILA-RCO-3"]
    assert listed(client.get(URL, {"status": "ADD_AWAITING"})) == ["DILA-AEC-2"]
    since = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert listed(client.get(URL, {"recu_depuis": since})) == ["DILA-RCO-3", "DILA-AEC-2"]
    until = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert listed(client.get(URL, {"recu_avant": until})) == ["DILA-AEC-2", "DILA-AEC-1"]


def test_the_demarche_filter_offers_only_my_demarches(client):
    mine = DemarcheFactory(name="Ma démarche")
    DemarcheFactory(name="Pas la mienne")
    log_in(client, agent_for(mine))
    page = client.get(URL).content.decode()
    assert "Ma démarche" in page and "Pas la mienne" not in page


def test_queues_and_their_counts(setup):
    client = setup["client"]
    response = client.get(URL)
    counts = {q["value"]: q["count"] for q in response.context["queues"]}
    assert counts == {"a-traiter": 1, "en-attente": 1, "traites": 1}
    assert listed(client.get(URL, {"file": "a-traiter"})) == ["DILA-AEC-1"]
    assert listed(client.get(URL, {"file": "en-attente"})) == ["DILA-AEC-2"]
    assert listed(client.get(URL, {"file": "traites"})) == ["DILA-RCO-3"]
    # Counts follow the other filters.
    response = client.get(URL, {"demarche": setup["a"].pk, "file": "traites"})
    counts = {q["value"]: q["count"] for q in response.context["queues"]}
    assert counts == {"a-traiter": 1, "en-attente": 1, "traites": 0}
    assert listed(response) == []


def test_sort_both_ways(setup):
    client = setup["client"]
    assert listed(client.get(URL, {"tri": "demandeur"})) == [
        "DILA-RCO-3",
        "DILA-AEC-2",
        "DILA-AEC-1",
    ]
    assert listed(client.get(URL, {"tri": "-demandeur"})) == [
        "DILA-AEC-1",
        "DILA-AEC-2",
        "DILA-RCO-3",
    ]
    assert listed(client.get(URL, {"tri": "numero"})) == ["DILA-AEC-1", "DILA-AEC-2", "DILA-RCO-3"]
    page = client.get(URL, {"tri": "numero"}).content.decode()
    assert 'aria-sort="ascending"' in page
    assert "tri=-numero" in page  # the header link now sorts the other way


def test_unread_filter(setup):
    client = setup["client"]
    _agent, d1, d2 = setup["agent"], setup["d1"], setup["d2"]
    # Never opened: unread.
    assert len(listed(client.get(URL, {"non_lus": "on"}))) == 3
    client.get(reverse("dossiers:detail", args=[d1.pk]))
    client.get(reverse("dossiers:detail", args=[d2.pk]))
    assert listed(client.get(URL, {"non_lus": "on"})) == ["DILA-RCO-3"]
    # The citizen answers on d2: unread again, for this agent only.
    DossierView.objects.filter(dossier=d2).update(viewed_at=timezone.now() - timedelta(minutes=5))
    EvenementFactory(dossier=d2)
    assert listed(client.get(URL, {"non_lus": "on"})) == ["DILA-RCO-3", "DILA-AEC-2"]
    page = client.get(URL).content.decode()
    assert page.count("Non lu</span>") == 2


def test_pagination_keeps_the_filters(setup, settings):
    settings.DOSSIERS_PER_PAGE = 2
    a = setup["a"]
    for _ in range(3):
        DossierFactory(demarche=a, status="IN_PROGRESS")
    client = setup["client"]
    first = client.get(URL, {"file": "a-traiter"})
    assert first.context["page_obj"].paginator.num_pages == 2
    page = first.content.decode()
    assert "file=a-traiter&amp;page=2" in page
    second = client.get(URL, {"file": "a-traiter", "page": 2})
    assert len(listed(second)) == 2
    assert set(listed(first)).isdisjoint(listed(second))
    assert client.get(URL, {"page": 99}).status_code == 200  # last page, not an error


def test_consulting_the_list_is_audited(setup):
    setup["client"].get(URL, {"q": "martin"})
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.username) == ("list", setup["agent"].username)
    assert "martin" not in (entry.detail + entry.object_ref).lower()


def _grow(demarches, n, agents):
    for i in range(n):
        dossier = DossierFactory(demarche=demarches[i % len(demarches)])
        PieceJointeFactory(dossier=dossier)
        EvenementFactory(dossier=dossier)
    for demarche in demarches:
        for _ in range(agents):
            demarche.agents.add(UserFactory())


def _queries(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return [query["sql"] for query in ctx.captured_queries]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page": "3"},
        {"q": "martin", "non_lus": "on", "file": "a-traiter", "tri": "-statut"},
    ],
    ids=["plain", "deep-page", "filtered"],
)
def test_query_count_does_not_grow_with_data(client, params, settings):
    settings.DOSSIERS_PER_PAGE = 25
    demarches = [DemarcheFactory(), DemarcheFactory()]
    agent = agent_for(*demarches)
    log_in(client, agent)
    _grow(demarches, 2, agents=1)
    small = _queries(client, params)
    _grow(demarches, 60, agents=10)
    large = _queries(client, params)
    assert len(small) == len(large)
    # session, user, démarche choices, agent choices (« Attribué à »), queue counts (which
    # also give the page count), « Mes dossiers » count, page rows, audit insert
    assert len(large) == 8
    # The queue counts: from the running counts (dossiers.records.tallies) unless a filter
    # needs the dossiers themselves (the search here). « Mes dossiers » is counted; the
    # paginator does not count.
    tallied = sum("dossiers_dossiertally" in sql for sql in large)
    assert tallied == (0 if params.get("q") else 1)
    assert sum("COUNT(" in sql for sql in large) == 2 - tallied


def _tabs(response) -> dict[str, int]:
    counts = {q["value"]: q["count"] for q in response.context["queues"]}
    counts["tous"] = response.context["total"]
    return counts


def test_queue_counts_follow_habilitations_and_skip_purged(client):
    mine, other = DemarcheFactory(), DemarcheFactory()
    for status in ["HUBEE_NOTIFIED", "IN_PROGRESS", "SENT", "ADD_AWAITING", "DONE", "REFUSED"]:
        DossierFactory(demarche=mine, status=status)
    DossierFactory(demarche=mine, status="DONE", purged_at=timezone.now())  # RGPD trace
    for status in ["HUBEE_NOTIFIED", "ADD_AWAITING", "ADD_AWAITING", "CLOSED"]:
        DossierFactory(demarche=other, status=status)

    log_in(client, agent_for(mine))
    response = client.get(URL)
    assert _tabs(response) == {"a-traiter": 3, "en-attente": 1, "traites": 2, "tous": 6}
    assert response.context["page_obj"].paginator.count == 6
    waiting = client.get(URL, {"file": "en-attente"})
    assert _tabs(waiting) == _tabs(response)  # the tabs do not depend on the queue shown
    assert waiting.context["page_obj"].paginator.count == 1

    log_in(client, agent_for(mine, other))
    assert _tabs(client.get(URL)) == {"a-traiter": 4, "en-attente": 3, "traites": 3, "tous": 10}
    log_in(client, staff_with("dossiers.view_all_dossiers"))  # a supervisor
    assert _tabs(client.get(URL)) == {"a-traiter": 4, "en-attente": 3, "traites": 3, "tous": 10}
    log_in(client, UserFactory(is_staff=True))  # staff alone sees no démarche
    assert _tabs(client.get(URL)) == {"a-traiter": 0, "en-attente": 0, "traites": 0, "tous": 0}
    log_in(client, agent_for())
    response = client.get(URL)
    assert _tabs(response) == {"a-traiter": 0, "en-attente": 0, "traites": 0, "tous": 0}
    assert listed(response) == []


def _all_pages(client, params) -> list[str]:
    first = client.get(URL, params)
    pages = first.context["page_obj"].paginator.num_pages
    rows = listed(first)
    for number in range(2, pages + 1):
        rows += listed(client.get(URL, {**params, "page": number}))
    return rows


@pytest.mark.parametrize(
    "params",
    [{}, {"file": "a-traiter"}, {"tri": "demandeur"}, {"tri": "-statut", "file": "traites"}],
    ids=["default", "queue", "sorted", "sorted-queue"],
)
def test_pages_cover_every_dossier_once_in_a_stable_order(client, settings, params):
    """Ties on the sort column (same date, same name) are broken by id, newest first."""
    settings.DOSSIERS_PER_PAGE = 3
    mine, other, hidden = DemarcheFactory(), DemarcheFactory(), DemarcheFactory()
    same_time = timezone.now() - timedelta(days=1)
    expected = []
    for index in range(11):
        dossier = DossierFactory(
            demarche=mine if index % 2 else other,
            status=["HUBEE_NOTIFIED", "DONE", "REFUSED"][index % 3],
            applicant_last_name=f"Nom{index % 2}",
            received_at=same_time if index < 6 else same_time + timedelta(minutes=index),
        )
        expected.append(dossier)
    DossierFactory(demarche=hidden, received_at=same_time)
    log_in(client, agent_for(mine, other))

    queue = params.get("file")
    if queue:
        expected = [d for d in expected if d.status in QUEUE_STATUSES[queue]]
    # Sorts are stable: by id (the tie-break, newest first), then by the column shown.
    expected.sort(key=lambda d: d.pk, reverse=True)
    tri = params.get("tri", "-received")
    field = {"received": "received_at", "demandeur": "applicant_last_name", "statut": "status"}
    expected.sort(key=lambda d: getattr(d, field[tri.lstrip("-")]), reverse=tri.startswith("-"))

    rows = _all_pages(client, params)
    assert rows == [d.external_id for d in expected]
    response = client.get(URL, {**params, "page": 99})  # past the end: the last page
    assert response.context["page_obj"].number == -(-len(expected) // 3)
    assert listed(response) == rows[(response.context["page_obj"].number - 1) * 3 :]
