"""« État du portail »: on one admin page, whether the portal is healthy, what it keeps and for
how long, who is warned; staff only, and no applicant's data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from dossiers.enums import FailureKind, OutgoingState
from dossiers.models import (
    Dossier,
    Incident,
    IntegrityCheck,
    NotificationFailure,
    OutgoingEvent,
    PurgeRun,
)
from dossiers.operations import health, incidents, retention, schedules
from dossiers.records.access import view_all_permission
from dossiers.records.periods import minute_after
from tests.conftest import log_in
from tests.factories import AdminFactory, DemarcheFactory, DossierFactory, UserFactory, staff_with
from tests.operations.conftest import APPLICANT, grow_fleet

pytestmark = pytest.mark.django_db
URL = reverse("operations")


@pytest.fixture
def staff_client(client):
    log_in(client, AdminFactory())
    return client


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_staff_only(client, healthy):
    assert client.get(URL).status_code == 302  # to the admin's login
    log_in(client, UserFactory())  # an agent, not staff
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_healthy_page_says_so_and_shows_each_demarche(staff_client, healthy, settings):
    settings.ADMINS = [("Informatique", "info@mairie.fr")]
    healthy.retention_months = 18
    healthy.save()
    text = page(staff_client)
    assert "Tout fonctionne." in text
    assert healthy.name in text and "EtatCivil" in text
    assert "18 mois après un statut final" in text
    assert "info@mairie.fr" in text
    assert "36 mois" in text  # the audit log's own period
    # The next purge is the scheduled one; every schedule is listed with its next run.
    purge = schedules.PURGE_SCHEDULE_NAME
    from django_q.models import Schedule

    next_purge = Schedule.objects.get(name=purge).next_run
    assert f"le {timezone.localtime(next_purge):%d/%m/%Y à %H:%M}" in text
    assert "non planifiée" not in text
    for value in APPLICANT.values():
        assert value not in text
    assert Dossier.objects.get().external_id not in text


def test_problems_with_their_incident_and_mail_state(staff_client, healthy, settings):
    settings.ADMINS = []
    NotificationFailure.objects.create(
        demarche=healthy,
        notification_id="00000000-0000-0000-0000-000000000002",
        kind=FailureKind.NOT_FOUND,
        error=APPLICANT["lastName"],
        given_up=True,
    )
    incidents.evaluate()
    text = page(staff_client)
    assert "1 problème demande votre attention." in text
    assert "notification(s) HubEE abandonnée(s)" in text
    assert incidents.NO_RECIPIENT in text
    assert "Personne n'est prévenu" in text
    assert APPLICANT["lastName"] not in text


def test_silent_worker_and_unscheduled_tasks(staff_client, healthy):
    from django_q.models import Schedule

    Schedule.objects.filter(name=schedules.PURGE_SCHEDULE_NAME).delete()
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        text = page(staff_client)
    assert "silencieux" in text
    assert "Le worker (qcluster) ne donne plus signe de vie" in text
    assert 'Prochaine purge : <span class="ops-ko">non planifiée</span>' in text


def test_retention_counts_purges_and_integrity(staff_client, healthy, monkeypatch):
    dossier = Dossier.objects.get()
    # Closed long ago: due at the next purge.
    Dossier.objects.filter(pk=dossier.pk).update(
        status="DONE", hubee_closed_at=timezone.now() - timedelta(days=3 * 365)
    )
    assert retention.expired(healthy).count() == 1
    PurgeRun.objects.create(
        dossiers_purged=3, files_deleted=7, bytes_deleted=5 * 1024 * 1024, details={"errors": [9]}
    )
    IntegrityCheck.objects.create(
        demarche=healthy, files_checked=4, missing=1, altered=1, finished_at=timezone.now()
    )
    text = page(staff_client)
    row = text[text.index(healthy.name) :]
    row = row[: row.index("</tr>")]
    assert 'class="num">1</td>' in row  # to purge at the next purge
    assert "dont 1 clos" in row
    assert "1 manquant, 1 altéré" in row
    assert "5,0\xa0Mio" in text  # Django's filesizeformat, in French
    assert "1 dossier repris à la purge suivante" in text


def test_low_disk_is_shown(staff_client, healthy, monkeypatch):
    monkeypatch.setattr(health, "disk_usage", lambda path: (10 * 1024 * 1024, 10**12, 1))
    text = page(staff_client)
    assert "10,0\xa0Mio" in text
    assert "Mo libres (seuil 1024 Mo)" in text


def test_admin_index_shows_the_state_and_links_to_the_page(staff_client, healthy):
    text = staff_client.get(reverse("admin:index")).content.decode()
    assert "Tout fonctionne." in text and f'href="{URL}"' in text
    Incident.objects.all().delete()
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        text = staff_client.get(reverse("admin:index")).content.decode()
    assert "1 problème demande votre attention." in text


def test_query_count_does_not_grow_with_dossiers(staff_client, healthy, hubee):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            page(staff_client)
        return len(queries)

    before = count()
    for _ in range(5):
        hubee.deposit(healthy, applicant=APPLICANT)
        healthy.agents.add(UserFactory(is_staff=True))
    hubee.sync(healthy)
    assert Dossier.objects.count() == 6
    assert count() == before


def test_lists_the_staff_accounts_limited_to_their_habilitations(staff_client, healthy):
    other = DemarcheFactory()
    UserFactory(username="sans-habilitation", is_staff=True)
    habilitated = UserFactory(username="habilite-deux", is_staff=True, first_name="Léa")
    for demarche in (healthy, other):
        demarche.agents.add(habilitated)
    UserFactory(username="ancien-compte", is_staff=True, is_active=False)
    UserFactory(username="agent-seul")
    staff_with("dossiers.view_all_dossiers", username="superviseur")
    group = Group.objects.create(name="Supervision")
    group.permissions.add(view_all_permission().get())
    UserFactory(username="superviseur-groupe", is_staff=True).groups.add(group)

    response = staff_client.get(URL)
    accounts = [
        (a.username, a.habilitations) for a in response.context["ops"].staff_without_view_all
    ]
    assert accounts == [("habilite-deux", 2), ("sans-habilitation", 0)]
    text = response.content.decode()
    assert "habilitez chacun sur ses démarches" in text
    assert "« Voir tous les dossiers »" in text
    assert "(ne voit aucun dossier)" in text and "Léa" in text


def test_says_so_when_no_staff_account_is_limited(staff_client, healthy):
    text = page(staff_client)
    assert "Aucun compte d'administrateur technique n'est limité à ses habilitations" in text


def test_says_until_when_a_cut_push_waits(staff_client, healthy):
    # Issue 12, bug 3: a push whose POST got no answer waits until HubEE can no longer receive
    # it (the HTTP timeouts); the page says how many pushes wait, and until when.
    other = DemarcheFactory(name="Recensement")
    dossier = DossierFactory(demarche=other)
    cut_at = timezone.now() - timedelta(seconds=10)
    OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="DONE", author="Agent", post_unanswered_since=cut_at
    )
    OutgoingEvent.objects.create(dossier=dossier, message="Bonjour", author="Agent")
    OutgoingEvent.objects.create(
        dossier=DossierFactory(demarche=other),
        case_new_status="DONE",
        author="Agent",
        state=OutgoingState.SENT,
    )

    text = page(staff_client)

    until = minute_after(cut_at + OutgoingEvent.settle())
    assert f"2 envois en attente, dont 1 suspendu jusqu'à {until}" in text


def test_a_cut_push_past_its_wait_is_only_pending(staff_client, healthy):
    other = DemarcheFactory(name="Recensement")
    OutgoingEvent.objects.create(
        dossier=DossierFactory(demarche=other),
        case_new_status="DONE",
        author="Agent",
        post_unanswered_since=timezone.now() - timedelta(hours=1),
    )

    text = page(staff_client)

    assert "1 envoi en attente</span>" in text
    assert "suspendu" not in text


def test_keeps_the_technical_detail_the_agents_do_not_see(staff_client, healthy):
    # Issue 16: the agents' dashboard says what to do in French; the staff page keeps what
    # HubEE answered, and counts the pushes HubEE refused.
    from dossiers.models import SyncRun

    SyncRun.objects.create(
        demarche=healthy,
        status="failed",
        failure_kind="hubee",
        message="HubEE injoignable ou en erreur : HubEE server error: "
        "GET /teledossiers/v1/notifications -> HTTP 502",
    )
    OutgoingEvent.objects.create(
        dossier=DossierFactory(demarche=healthy),
        author="Agent",
        state=OutgoingState.FAILED,
        last_error="HubEE rejected the request as invalid",
    )

    text = page(staff_client)

    assert "GET /teledossiers/v1/notifications -&gt; HTTP 502" in text
    assert "1 envoi refusé par HubEE" in text
    assert reverse("admin:dossiers_outgoingevent_changelist") + "?state__exact=failed" in text


def _queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page(client)
    return len(queries)


def test_query_count_does_not_grow_with_demarches(staff_client, healthy):
    # Issue 22: « État du portail » at 2,500 démarches; each row's figures come grouped.
    grow_fleet(2)
    page(staff_client)  # the given-up notifications open their incidents
    few = _queries(staff_client)
    grow_fleet(9)
    page(staff_client)
    assert len(staff_client.get(URL).context["ops"].rows) == 12
    assert _queries(staff_client) == few


def test_to_purge_per_demarche_is_what_the_purge_will_take(staff_client, healthy):
    from django_q.models import Schedule

    fleet = grow_fleet(6)
    # One démarche keeps its dossiers 5 years: the 4-year-old one stays.
    fleet[0].retention_months = 60
    fleet[0].save()
    next_purge = Schedule.objects.get(name=schedules.PURGE_SCHEDULE_NAME).next_run
    rows = {row.demarche.pk: row for row in staff_client.get(URL).context["ops"].rows}
    for demarche in [healthy, *fleet]:
        assert rows[demarche.pk].to_purge == retention.expired(demarche, next_purge).count()
    assert rows[fleet[0].pk].to_purge == 0 and rows[fleet[1].pk].to_purge == 1


def test_shows_the_last_pass_and_the_last_journaled_message(staff_client, healthy):
    # An idle poll writes no SyncRun: the row says when HubEE was last asked, and keeps the
    # text of the last journaled run.
    from dossiers.models import SyncRun
    from dossiers.records import polls

    SyncRun.objects.create(
        demarche=healthy,
        status="failed",
        failure_kind="hubee",
        message="HubEE injoignable ou en erreur : HTTP 503",
    )
    text = page(staff_client)
    assert "dernier passage le" in text and ": échec (HubEE injoignable ou en erreur)" in text
    later = timezone.now() + timedelta(minutes=3)
    polls.record_idle([healthy.pk], later)
    text = page(staff_client)
    assert f"dernier passage le {timezone.localtime(later):%d/%m/%Y %H:%M} : réussie" in text
    assert "HubEE injoignable ou en erreur : HTTP 503" in text
    SyncRun.objects.create(demarche=healthy, status="running")
    assert "synchronisation en cours ; passage précédent le" in page(staff_client)


def test_the_demarches_table_is_paged_with_the_troubled_ones_first(
    staff_client, healthy, monkeypatch
):
    """An operator runs thousands of démarches: the table shows a page of them, those with a
    problem first, and says how to reach the others."""
    from dossiers.enums import RunFailure, RunStatus
    from dossiers.models import SyncRun
    from dossiers.operations import page as operations_page

    monkeypatch.setattr(operations_page, "ROWS_PER_PAGE", 3)
    quiet = [DemarcheFactory(name=f"A calme {i}") for i in range(4)]
    troubled = DemarcheFactory(name="Z en échec", enabled=True)
    SyncRun.objects.create(
        demarche=troubled,
        status=RunStatus.FAILED,
        failure_kind=RunFailure.CREDENTIALS,
        finished_at=timezone.now(),
    )
    first = page(staff_client)
    rows = first.split('id="demarches"', 1)[1]
    assert rows.index("Z en échec") < rows.index(healthy.name)
    assert quiet[3].name not in rows
    assert 'aria-label="Pages du tableau des démarches"' in first
    assert '<span aria-current="page">Page 1 sur 2</span>' in first
    assert 'href="?page=2#demarches"' in first
    second = staff_client.get(URL, {"page": 2}).content.decode().split('id="demarches"', 1)[1]
    assert quiet[3].name in second and "Z en échec" not in second
    # A page number out of range or not a number shows a page, never an error.
    assert staff_client.get(URL, {"page": "x"}).status_code == 200
    assert staff_client.get(URL, {"page": 99}).status_code == 200
