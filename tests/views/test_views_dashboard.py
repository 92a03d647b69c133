"""The dashboard: per démarche counts, news since my last visit, oldest untreated dossier,
syncs and failures, the 30-day chart, and « Synchroniser maintenant »."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import (
    AgentPreference,
    AuditEntry,
    Dossier,
    NotificationFailure,
    OutgoingEvent,
    SyncRun,
)
from tests.factories import DemarcheFactory, DossierFactory, UserFactory, agent_for

pytestmark = pytest.mark.django_db
HOME = reverse("home")


def summary(response, demarche):
    return next(s for s in response.context["board"].summaries if s.demarche == demarche)


def test_counts_per_demarche_and_queue(client):
    a = DemarcheFactory(name="Actes")
    for status in (
        "HUBEE_NOTIFIED",
        "SI_RECEIVED",
        "IN_PROGRESS",
        "ADD_AWAITING",
        "DONE",
        "REFUSED",
    ):
        DossierFactory(demarche=a, status=status)
    client.force_login(agent_for(a))
    response = client.get(HOME)
    s = summary(response, a)
    assert s.queues == {"todo": 3, "waiting": 1, "done": 2}
    assert s.total == 6
    assert [row[0] for row in s.by_status] == [
        "HUBEE_NOTIFIED",
        "SI_RECEIVED",
        "IN_PROGRESS",
        "ADD_AWAITING",
        "REFUSED",
        "DONE",
    ]
    page = response.content.decode()
    assert f"?demarche={a.pk}&amp;file=a-traiter" in page


def test_new_since_my_last_visit(client):
    a = DemarcheFactory()
    agent = agent_for(a)
    client.force_login(agent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = client.get(HOME)
    assert first.context["board"].first_visit
    assert "Première visite" in first.content.decode()
    # A reload minutes later is no « première visite » any more.
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        again = client.get(HOME)
    assert not again.context["board"].first_visit
    assert "Première visite" not in again.content.decode()
    DossierFactory(demarche=a, received_at=start + timedelta(hours=1))
    DossierFactory(demarche=a, received_at=start + timedelta(hours=2))
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        second = client.get(HOME)
    assert summary(second, a).new == 2
    # A reload a minute later is the same visit: the news are still counted.
    with time_machine.travel(start + timedelta(hours=3, minutes=1), tick=False):
        assert summary(client.get(HOME), a).new == 2
    # The next visit counts from this one.
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        assert summary(client.get(HOME), a).new == 0
    assert AgentPreference.objects.get(user=agent).last_seen_at == start + timedelta(hours=5)


def test_oldest_untreated_dossier(client):
    a = DemarcheFactory()
    now = timezone.now()
    DossierFactory(demarche=a, status="DONE", received_at=now - timedelta(days=30))
    oldest = DossierFactory(demarche=a, status="IN_PROGRESS", received_at=now - timedelta(days=12))
    DossierFactory(demarche=a, status="SI_RECEIVED", received_at=now - timedelta(days=2))
    client.force_login(agent_for(a))
    response = client.get(HOME)
    assert summary(response, a).oldest == oldest
    page = response.content.decode()
    assert reverse("dossiers:detail", args=[oldest.pk]) in page
    assert "(en attente depuis 12 jours)" in page


def test_last_syncs_and_failures(client):
    a = DemarcheFactory(name="Actes")
    now = timezone.now()
    SyncRun.objects.create(
        demarche=a, started_at=now - timedelta(minutes=5), status="ok", finished_at=now
    )
    SyncRun.objects.create(
        demarche=a,
        started_at=now,
        status="partial",
        finished_at=now,
        errors=2,
        message="2 notification(s) en échec, conservées sur HubEE.",
    )
    NotificationFailure.objects.create(
        demarche=a,
        notification_id="11111111-1111-1111-1111-111111111111",
        kind="transient",
        error="HubEE server error",
        attempts=2,
    )
    NotificationFailure.objects.create(
        demarche=a,
        notification_id="22222222-2222-2222-2222-222222222222",
        kind="not_found",
        error="Case is not found",
        attempts=3,
        given_up=True,
    )
    NotificationFailure.objects.create(
        demarche=a,
        notification_id="33333333-3333-3333-3333-333333333333",
        kind="transient",
        error="resolved",
        resolved_at=now,
    )
    client.force_login(agent_for(a))
    response = client.get(HOME)
    s = summary(response, a)
    assert s.last_poll.status == "partial"
    assert (s.failing, s.given_up) == (1, 1)
    page = response.content.decode()
    # The sync log lives on « État du portail » now; agents read what to do.
    assert "Dernières synchronisations" not in page
    assert "Abandonnée" in page and "doit l&#x27;examiner puis" in page
    assert "HubEE était momentanément indisponible" in page
    # The stored technical texts stay for the staff: never on the agents' dashboard.
    assert "Case is not found" not in page and "HubEE server error" not in page
    assert "(404)" not in page
    assert "resolved" not in page


def test_chart_and_its_table(client):
    a = DemarcheFactory()
    today = timezone.localtime().replace(hour=12)
    for days_ago, count in ((0, 3), (2, 1), (29, 2), (31, 5)):
        for _ in range(count):
            DossierFactory(demarche=a, received_at=today - timedelta(days=days_ago))
    client.force_login(agent_for(a))
    response = client.get(HOME)
    chart = response.context["board"].chart
    assert len(chart.bars) == 30
    assert [b.count for b in chart.bars][-1] == 3
    assert [b.count for b in chart.bars][-3] == 1
    assert [b.count for b in chart.bars][0] == 2
    assert chart.total == 6 and chart.maximum == 3
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.count == 3 and tallest.y == chart.top
    page = response.content.decode()
    assert 'role="img"' in page and '<title id="chart-title">' in page
    assert "Voir ces données sous forme de tableau" in page


def test_chart_counts_local_days_across_a_dst_change(client):
    """Days are Paris days: 00:30 belongs to its day, not to the UTC day before (here on the
    day summer time starts, a 23-hour day)."""
    a = DemarcheFactory()
    paris = timezone.get_current_timezone()
    now = datetime(2026, 3, 29, 12, 0, tzinfo=paris)
    for received in (
        datetime(2026, 3, 29, 0, 30),  # today, 23:30 UTC the day before
        datetime(2026, 3, 28, 23, 50),  # yesterday
        datetime(2026, 2, 28, 0, 0),  # the first day of the chart, at its first instant
        datetime(2026, 2, 27, 23, 59),  # the day before the chart: not counted
    ):
        DossierFactory(demarche=a, received_at=received.replace(tzinfo=paris))
    client.force_login(agent_for(a))
    with time_machine.travel(now, tick=False):
        chart = client.get(HOME).context["board"].chart
    counts = [bar.count for bar in chart.bars]
    assert chart.bars[0].day == date(2026, 2, 28) and chart.bars[-1].day == date(2026, 3, 29)
    assert counts[-1] == 1 and counts[-2] == 1 and counts[0] == 1
    assert chart.total == 3


def test_an_agent_without_demarche_gets_an_empty_dashboard(client):
    DossierFactory()
    client.force_login(agent_for())
    response = client.get(HOME)
    assert response.status_code == 200
    board = response.context["board"]
    assert board.summaries == [] and board.chart.total == 0


def test_sync_now_runs_the_sync_of_my_enabled_demarches(portal, login):
    mine = portal.demarche("EtatCivil")
    disabled = portal.demarche("recensementCitoyen", enabled=False)
    other = portal.demarche("JeChangeDeCoordonnees")
    for demarche in (mine, disabled, other):
        portal.deposit(demarche)
    agent = agent_for(mine, disabled)
    client = login(agent)
    response = client.post(reverse("sync-now"))
    assert response.status_code == 302
    assert set(Dossier.objects.values_list("demarche_id", flat=True)) == {mine.pk}
    page = client.get(HOME).content.decode()
    assert "Réussie" in page
    assert AuditEntry.objects.get(action="sync").detail == "1 démarche(s)"


def test_sync_now_without_enabled_demarche_says_so(client):
    client.force_login(agent_for(DemarcheFactory(enabled=False)))
    response = client.post(reverse("sync-now"), follow=True)
    assert "Aucune démarche active" in response.content.decode()


def test_dashboard_query_count_does_not_grow(client):
    demarches = [DemarcheFactory(), DemarcheFactory()]
    client.force_login(agent_for(*demarches))

    def grow(n):
        for i in range(n):
            demarche = demarches[i % 2]
            DossierFactory(demarche=demarche, status=["SI_RECEIVED", "DONE", "ADD_AWAITING"][i % 3])
            SyncRun.objects.create(demarche=demarche, status="ok")
            demarche.agents.add(UserFactory())

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(HOME).status_code == 200
        return len(ctx.captured_queries)

    grow(3)
    client.get(HOME)
    small = count()
    grow(40)
    assert count() == small
    # session, user, preference (read, save), démarches with their last pass, counts by
    # status, oldest dossiers, failures by démarche, run list, failure list, chart (+1 for
    # "new" once a previous visit exists)
    assert small == 11


def test_sends_waiting_and_refused_are_marked_per_demarche(client):
    a = DemarcheFactory(name="Actes")
    waiting = DossierFactory(demarche=a, status="SI_RECEIVED")
    refused = DossierFactory(demarche=a, status="IN_PROGRESS")
    closed = DossierFactory(demarche=a, status="CLOSED")
    for dossier, state in (
        (waiting, "pending"),
        (waiting, "pending"),  # two pushes, one dossier
        (refused, "sent"),
        (refused, "failed"),  # after the sent one: still to look at (a later one would not)
        (closed, "failed"),  # closed: nothing left to do, not counted
    ):
        OutgoingEvent.objects.create(dossier=dossier, author="Agent", state=state)
    client.force_login(agent_for(a))
    response = client.get(HOME)
    s = summary(response, a)
    assert (s.sends_waiting, s.sends_refused) == (1, 1)
    page = response.content.decode()
    assert f"?demarche={a.pk}&amp;envoi=attente" in page
    assert f"?demarche={a.pk}&amp;envoi=refuse" in page


def test_no_send_mark_without_sends(client):
    a = DemarcheFactory()
    DossierFactory(demarche=a)
    client.force_login(agent_for(a))
    response = client.get(HOME)
    assert (summary(response, a).sends_waiting, summary(response, a).sends_refused) == (0, 0)
    assert "envoi=attente" not in response.content.decode()


def test_sync_interval_is_the_real_one(client, settings):
    settings.HUBEE_SYNC_INTERVAL_MINUTES = 5
    client.force_login(agent_for(DemarcheFactory()))
    page = client.get(HOME).content.decode()
    assert "toutes les 5 minutes" in page and "quelques minutes" not in page


def test_a_failed_run_says_what_to_do_not_what_hubee_said(client):
    a = DemarcheFactory()
    SyncRun.objects.create(
        demarche=a,
        status="failed",
        failure_kind="hubee",
        errors=1,
        message="HubEE injoignable ou en erreur : HubEE server error: "
        "GET /teledossiers/v1/notifications -> HTTP 502",
    )
    client.force_login(agent_for(a))
    page = client.get(HOME).content.decode()
    assert "HTTP" not in page and "/teledossiers" not in page
    assert "Nouvel essai automatique" in page
    # Said on the démarche's card too, where the agent looks first.
    response = client.get(HOME)
    assert summary(response, a).last_run_problem.startswith("Le portail n")


def test_what_i_have_to_do_per_demarche_and_in_total(client):
    from dossiers.models import Evenement
    from tests.factories import EvenementFactory

    a, b = DemarcheFactory(name="Actes"), DemarcheFactory(name="Recensement")
    me = agent_for(a, b)
    colleague = agent_for(a)
    mine = DossierFactory(demarche=a, status="IN_PROGRESS", assigned_to=me)
    DossierFactory(demarche=b, status="SI_RECEIVED", assigned_to=me)
    DossierFactory(demarche=a, status="DONE", assigned_to=me)  # finished: not to do
    DossierFactory(demarche=a, status="SI_RECEIVED", assigned_to=colleague)
    DossierFactory(demarche=a, status="SI_RECEIVED")  # free, to take
    DossierFactory(demarche=b, status="HUBEE_NOTIFIED")  # free, to take
    # A citizen's reply not seen yet; and one the agent has read since.
    answered = DossierFactory(demarche=b, status="IN_PROGRESS")
    for dossier, directions in ((mine, ("sent", "received")), (answered, ("received", "sent"))):
        for direction in directions:
            EvenementFactory(dossier=dossier, direction=direction, action_type="SENDING_MESSAGE")
    assert Evenement.objects.count() == 4
    # Replies count per agent, like the list's « Nouveau message de l'usager »: seen is read.
    from dossiers.models import DossierView

    DossierView.objects.create(user=me, dossier=answered, viewed_at=timezone.now())
    client.force_login(me)
    board = client.get(HOME).context["board"]
    assert board.todo == {
        "mine": 2,
        "to_take": 3,  # the two free ones and `answered`, free too
        "replies": 1,
        "sends_refused": 0,
        "sends_waiting": 0,
    }
    assert (summary_of(board, a).mine, summary_of(board, b).mine) == (1, 1)
    assert summary_of(board, a).replies == 1 and summary_of(board, b).replies == 0


def summary_of(board, demarche):
    return next(s for s in board.summaries if s.demarche == demarche)


def test_the_chart_counts_local_days_at_their_edges(client):
    """Paris is ahead of UTC: a dossier received at 00:30 in Paris (the evening before in UTC)
    counts on the Paris day, one at 23:30 on its own day."""
    a = DemarcheFactory()
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = midnight - timedelta(days=1)
    DossierFactory(demarche=a, received_at=midnight + timedelta(minutes=30))
    DossierFactory(demarche=a, received_at=yesterday + timedelta(hours=23, minutes=30))
    DossierFactory(demarche=a, received_at=yesterday + timedelta(minutes=30))
    client.force_login(agent_for(a))
    counts = [b.count for b in client.get(HOME).context["board"].chart.bars]
    assert counts[-2:] == [2, 1]


def test_dashboard_query_count_does_not_grow_with_demarches(client):
    # Issue 22: an agent of an operator given 50 démarches; their last passes come with them.
    from dossiers.records import polls

    agent = UserFactory()
    client.force_login(agent)

    def grow(n):
        for _ in range(n):
            demarche = DemarcheFactory()
            demarche.agents.add(agent)
            DossierFactory(demarche=demarche)
            SyncRun.objects.create(demarche=demarche, status="failed", failure_kind="hubee")
            polls.record_idle([demarche.pk], timezone.now())

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(HOME).status_code == 200
        return len(ctx.captured_queries)

    grow(2)
    client.get(HOME)
    few = count()
    grow(6)
    assert count() == few


def test_the_last_pass_is_shown_even_when_nothing_was_journaled(client):
    # Idle polls write no SyncRun: the card says when HubEE was last asked, and how it went.
    from dossiers.records import polls

    a = DemarcheFactory()
    client.force_login(agent_for(a))
    assert summary(client.get(HOME), a).last_poll is None
    at = timezone.now() - timedelta(minutes=1)
    polls.record_idle([a.pk], at)
    response = client.get(HOME)
    assert summary(response, a).last_poll.polled_at == at
    assert f"{timezone.localtime(at):%d/%m/%Y %H:%M} — Réussie" in response.content.decode()
    assert not response.context["board"].running
    SyncRun.objects.create(demarche=a, status="running")
    response = client.get(HOME)
    assert response.context["board"].running
    assert "Une synchronisation est en cours." in response.content.decode()
