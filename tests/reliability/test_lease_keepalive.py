"""The lease renewed from a thread while a run lasts: a batch longer than the TTL keeps its
démarche; a lost lease is noticed; a stuck run stops renewing after max_hold."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers.exchange import lease
from dossiers.models import DemarcheLease
from tests.dossiers.conftest import hubee  # noqa: F401  (fixture)
from tests.factories import DemarcheFactory

# The keep-alive thread has its own database connection: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

TTL = timedelta(minutes=10)


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def expires_at(demarche):
    return DemarcheLease.objects.get(demarche=demarche).expires_at


def test_renews_while_the_run_lasts_then_stops():
    demarche = DemarcheFactory()
    owner = lease.new_owner()
    assert lease.acquire(demarche.pk, owner, TTL)
    # As if the run had started long ago: the lease is about to expire.
    soon = timezone.now() + timedelta(seconds=1)
    DemarcheLease.objects.filter(demarche=demarche).update(expires_at=soon)
    with lease.KeepAlive(demarche.pk, owner, TTL, interval=0.01) as keeper:
        assert wait_for(lambda: expires_at(demarche) > soon + timedelta(minutes=9))
        assert wait_for(lambda: keeper.renewals >= 2)
    renewals = keeper.renewals
    time.sleep(0.1)
    assert keeper.renewals == renewals and not keeper.lost.is_set()
    assert not lease.acquire(demarche.pk, lease.new_owner(), TTL)


def test_a_lease_taken_by_another_run_is_reported_lost_and_left_alone():
    demarche = DemarcheFactory()
    owner = lease.new_owner()
    assert lease.acquire(demarche.pk, owner, TTL)
    with lease.KeepAlive(demarche.pk, owner, TTL, interval=0.01) as keeper:
        DemarcheLease.objects.filter(demarche=demarche).update(owner="autre-serveur:1:1:x")
        assert keeper.lost.wait(10)
    assert DemarcheLease.objects.get(demarche=demarche).owner == "autre-serveur:1:1:x"


def test_a_run_stuck_past_max_hold_stops_renewing():
    demarche = DemarcheFactory()
    owner = lease.new_owner()
    assert lease.acquire(demarche.pk, owner, TTL)
    before = expires_at(demarche)
    with lease.KeepAlive(demarche.pk, owner, TTL, interval=0.01, max_hold=timedelta(0)) as keeper:
        assert wait_for(lambda: not keeper._thread.is_alive())
    assert keeper.renewals == 0 and expires_at(demarche) == before


def test_the_sync_renews_its_lease_from_another_thread(hubee, monkeypatch):  # noqa: F811
    from dossiers.exchange.inbound.case_handler import CaseHandler

    renewed_by: list[int] = []
    real_renew = lease.renew

    def recording_renew(*args, **kwargs):
        renewed_by.append(threading.get_ident())
        return real_renew(*args, **kwargs)

    monkeypatch.setattr(lease, "renew", recording_renew)
    monkeypatch.setattr(lease, "RENEWALS_PER_TTL", lease.LEASE_TTL.total_seconds() / 0.01)
    demarche = hubee.demarche("EtatCivil")
    for _ in range(3):
        hubee.deposit(demarche)
    original = CaseHandler.ingest_case

    def slow_ingest(self, case_id):
        time.sleep(0.1)  # a long download
        return original(self, case_id)

    monkeypatch.setattr(CaseHandler, "ingest_case", slow_ingest)
    outcome = hubee.sync(demarche)
    assert outcome.run.dossiers_created == 3
    assert set(renewed_by) - {threading.get_ident()}, "no renewal from the keep-alive thread"


def test_a_sync_that_loses_its_lease_starts_nothing_more(hubee, monkeypatch):  # noqa: F811
    """Another server took the démarche over (after an expiry): the run stops feeding its
    workers at once instead of handling the notifications beside the other run."""
    from dossiers.enums import RunFailure
    from dossiers.exchange.inbound.case_handler import CaseHandler

    monkeypatch.setattr(lease, "RENEWALS_PER_TTL", lease.LEASE_TTL.total_seconds() / 0.01)
    demarche = hubee.demarche("EtatCivil")
    for _ in range(4):
        hubee.deposit(demarche)
    original = CaseHandler.ingest_case
    ingested = []

    def taken_over_after_the_first(self, case_id):
        result = original(self, case_id)
        ingested.append(case_id)
        if len(ingested) == 1:
            DemarcheLease.objects.filter(demarche=demarche).update(owner="autre-serveur:1:1:x")
            assert self.context.lease_lost.wait(10)
        return result

    monkeypatch.setattr(CaseHandler, "ingest_case", taken_over_after_the_first)
    outcome = hubee.sync(demarche)
    assert len(ingested) == 1
    assert outcome.run.failure_kind == RunFailure.LEASE
    assert "une autre synchronisation" in outcome.run.message
    # The other server's lease is left alone.
    assert DemarcheLease.objects.get(demarche=demarche).owner == "autre-serveur:1:1:x"
