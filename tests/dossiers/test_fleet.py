"""dossiers.exchange.fleet and the minute's schedule (issue 22): idle démarches listed once
each in batches, with no SyncRun row; a full run only where there is something to do; a 429
pauses the connection; adaptive polling. Against the in-process sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers import tasks
from dossiers.enums import RunFailure, RunStatus
from dossiers.exchange import connection as exchange_connection
from dossiers.exchange import fleet
from dossiers.models import DemarcheLease, DemarchePoll, Dossier, OutgoingEvent, SyncRun
from dossiers.records import polls
from hubee_portal.sandbox import services as sandbox
from tests.factories import DossierFactory

LIST = "GET /teledossiers/v1/notifications"


@pytest.fixture
def fleet_of(hubee, monkeypatch):
    monkeypatch.setattr(exchange_connection, "client_for", hubee.client)
    monkeypatch.setattr(tasks.run.alerts, "send_immediate_alerts", lambda: 0)

    def make(*codes: str):
        return [hubee.demarche(code, enabled=True) for code in codes]

    return make


def listing_calls(demarche) -> int:
    return sandbox.call_counts(client_id=demarche.client_id).by_route.get(LIST, 0)


def test_idle_demarches_are_listed_once_each_and_journal_no_run(fleet_of):
    demarches = fleet_of("EtatCivil", "recensementCitoyen", "CERTDC")
    planned = tasks.enqueue_sync()
    assert planned == 3
    assert [listing_calls(d) for d in demarches] == [1, 1, 1]
    assert not SyncRun.objects.exists()
    for poll in DemarchePoll.objects.all():
        assert poll.status == RunStatus.OK
        assert poll.succeeded_at == poll.polled_at is not None
        assert poll.failures_in_row == 0


def test_a_demarche_with_a_deposit_gets_a_full_run_the_others_a_listing(fleet_of, hubee):
    busy, quiet = fleet_of("EtatCivil", "recensementCitoyen")
    case = hubee.deposit(busy)
    tasks.enqueue_sync()
    assert Dossier.objects.filter(hubee_case_id=case.id).count() == 1
    run = SyncRun.objects.get()
    assert (run.demarche, run.status, run.dossiers_created) == (busy, RunStatus.OK, 1)
    assert listing_calls(quiet) == 1
    poll = DemarchePoll.objects.get(demarche=busy)
    assert poll.run_requested_at is None  # the run started and finished
    assert poll.active_at is not None and poll.last_run_id == run.pk


def test_a_demarche_polled_within_the_minute_is_not_due_again(fleet_of):
    (demarche,) = fleet_of("EtatCivil")
    tasks.enqueue_sync()
    assert fleet.plan().demarches == 0
    # Two fan-outs a few seconds apart (schedulers overlapping) poll it once.
    assert fleet.plan(timezone.now() + timedelta(seconds=15)).demarches == 0
    later = timezone.now() + timedelta(seconds=50)
    assert fleet.plan(later).polls == [[demarche.pk]]


def test_batches_follow_the_batch_size(fleet_of, settings):
    settings.HUBEE_POLL_BATCH_SIZE = 2
    demarches = fleet_of("EtatCivil", "recensementCitoyen", "CERTDC", "depotDossierPACS", "JCC")
    ids = sorted(d.pk for d in demarches)
    assert fleet.plan().polls == [ids[:2], ids[2:4], ids[4:]]


def planned(plan) -> set[int]:
    return {pk for batch in plan.polls for pk in batch}


def test_a_leased_or_already_queued_demarche_is_left_alone(fleet_of):
    leased, queued, free = fleet_of("EtatCivil", "recensementCitoyen", "CERTDC")
    now = timezone.now()
    DemarcheLease.objects.create(
        demarche=leased, owner="ailleurs:1:1:x", expires_at=now + timedelta(minutes=5)
    )
    polls.record_requested([queued.pk], now)
    assert fleet.plan(now).polls == [[free.pk]]
    # A queued run never started while the broker's queue is empty was lost with its worker:
    # queued again soon. Behind a backlog, it is waiting: queued again only much later.
    lost = now + fleet.RUN_REQUEST_LOST + timedelta(seconds=1)
    assert queued.pk not in planned(fleet.plan(lost, queued=fleet.QUIET_QUEUE + 1))
    assert queued.pk in planned(fleet.plan(lost))
    stale = now + fleet.RUN_REQUEST_STALE + timedelta(seconds=1)
    polls.record_requested([queued.pk], now)
    assert queued.pk in planned(fleet.plan(stale, queued=fleet.QUIET_QUEUE + 1))


def test_a_demarche_in_a_batch_not_done_yet_is_not_planned_again(fleet_of):
    """HubEE slow or the workers busy: a batch queued a minute ago is not done yet. Its
    démarches are not put in a second batch (each minute would add one), unless the queue is
    empty, when the batch was lost."""
    (demarche,) = fleet_of("EtatCivil")
    now = timezone.now()
    assert planned(fleet.plan(now)) == {demarche.pk}
    later = now + fleet.RUN_REQUEST_LOST + timedelta(seconds=1)
    assert planned(fleet.plan(later, queued=fleet.QUIET_QUEUE + 1)) == set()
    assert planned(fleet.plan(later)) == {demarche.pk}  # lost: planned again
    fleet.poll([demarche.pk])
    assert DemarchePoll.objects.get().planned_at is None


def test_pushes_due_get_a_full_run_not_a_listing(fleet_of):
    with_push, other = fleet_of("EtatCivil", "recensementCitoyen")
    dossier = DossierFactory(demarche=with_push)
    OutgoingEvent.objects.create(dossier=dossier, case_new_status="DONE", author="Agent")
    plan = fleet.plan()
    assert plan.runs == [with_push.pk]
    assert plan.polls == [[other.pk]]


def test_a_disabled_demarche_is_not_contacted(fleet_of):
    on, off = fleet_of("EtatCivil", "recensementCitoyen")
    ids = fleet.plan().polls[0]
    off.enabled = False
    off.save()
    outcome = fleet.poll(ids)
    assert (outcome.idle, outcome.disabled) == ([on.pk], 1)
    assert listing_calls(off) == 0


def test_refused_credentials_go_to_a_journaled_run(fleet_of, hubee):
    good = fleet_of("EtatCivil")[0]
    bad = hubee.demarche("CERTDC", enabled=True, real_secret="pas-le-bon")
    tasks.enqueue_sync()
    run = SyncRun.objects.get()
    assert (run.demarche, run.status, run.failure_kind) == (bad, RunStatus.FAILED, "credentials")
    poll = DemarchePoll.objects.get(demarche=bad)
    assert (poll.status, poll.failure_kind, poll.failures_in_row) == (
        RunStatus.FAILED,
        RunFailure.CREDENTIALS,
        1,
    )
    assert poll.active_at is not None
    assert DemarchePoll.objects.get(demarche=good).status == RunStatus.OK


def test_a_429_pauses_the_connection_for_its_retry_after(fleet_of):
    demarches = fleet_of("EtatCivil", "recensementCitoyen", "CERTDC")
    sandbox.set_faults(throttle_rate=1.0, throttle_retry_after=120, faults_per_resource=0)
    before = timezone.now()
    outcome = fleet.poll([d.pk for d in demarches], threads=1)
    assert sorted(outcome.paused) == sorted(d.pk for d in demarches)
    # The first 429 paused the connection: the others were not even asked.
    assert sandbox.call_counts(method="GET").throttled == 1
    for poll in DemarchePoll.objects.all():
        assert poll.paused_until >= before + timedelta(seconds=119)
        assert poll.polled_at is None
    assert fleet.plan().demarches == 0
    sandbox.reset_faults()
    assert fleet.plan(timezone.now() + timedelta(seconds=121)).demarches == 3


def test_adaptive_polling_slows_an_idle_demarche_and_a_request_brings_it_back(fleet_of, settings):
    settings.HUBEE_IDLE_AFTER_MINUTES = 30
    settings.HUBEE_IDLE_POLL_MINUTES = 5
    (demarche,) = fleet_of("EtatCivil")
    now = timezone.now()
    polls.record_idle([demarche.pk], now - timedelta(minutes=2))
    assert fleet.plan(now).demarches == 1  # new: active from its first pass
    DemarchePoll.objects.update(active_at=now - timedelta(minutes=31))
    assert fleet.plan(now).demarches == 0  # idle: polled 2 minutes ago is enough
    DemarchePoll.objects.update(polled_at=now - timedelta(minutes=5), planned_at=None)
    assert fleet.plan(now).demarches == 1
    DemarchePoll.objects.update(polled_at=now - timedelta(minutes=2), planned_at=None)
    polls.mark_active(demarche.pk)
    assert fleet.plan(now).demarches == 1
    settings.HUBEE_IDLE_AFTER_MINUTES = 0
    DemarchePoll.objects.update(active_at=now - timedelta(days=1), planned_at=None)
    assert fleet.plan(now).demarches == 1  # off: every minute


def test_a_notification_found_makes_the_demarche_active_again(fleet_of, hubee, settings):
    settings.HUBEE_IDLE_AFTER_MINUTES = 30
    (demarche,) = fleet_of("EtatCivil")
    polls.record_idle([demarche.pk], timezone.now() - timedelta(hours=2))
    DemarchePoll.objects.update(active_at=timezone.now() - timedelta(hours=2))
    hubee.deposit(demarche)
    tasks.poll_demarches([demarche.pk])
    poll = DemarchePoll.objects.get()
    assert poll.active_at > timezone.now() - timedelta(minutes=1)
    assert Dossier.objects.filter(demarche=demarche).count() == 1


def test_a_lease_left_by_a_dead_process_does_not_hold_the_demarche_back(fleet_of):
    import subprocess

    from dossiers.exchange import lease

    (demarche,) = fleet_of("EtatCivil")
    child = subprocess.Popen(["true"])  # noqa: S607
    child.wait()
    host, _, namespace, tag = lease.new_owner().split(":")
    DemarcheLease.objects.create(
        demarche=demarche,
        owner=f"{host}:{child.pid}:{namespace}:{tag}",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert fleet.plan().polls == [[demarche.pk]]
