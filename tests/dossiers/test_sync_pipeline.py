"""The sync's workers are fed across listings: per-case order, one thread per case, stops.

The tests of CaseWorkers on its own moved to tests/dossiers/test_inbound_workers.py.

No timing is asserted: threads are held with events, and a wait that runs out only turns a
broken behaviour into a failed assertion instead of a hung test.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper

from dossiers.enums import RunStatus
from dossiers.exchange.inbound.case_handler import CaseHandler
from dossiers.models import Dossier, Evenement, NotificationFailure
from hubee_portal.hubee import AuthenticationError, Notification
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.test_inbound_workers import GUARD, Recorder

# -- the sync ----------------------------------------------------------------------------------

ONE_FILE = [("a.pdf", "t", "application/pdf", b"%PDF-1")]


@pytest.fixture
def recorded(monkeypatch) -> Recorder:
    """CaseHandler.handle through a Recorder; set `record.handler` to act around it."""
    original = CaseHandler.handle
    syncs: list[CaseHandler] = []
    record = Recorder(lambda item: original(syncs[0], item))

    def handle(self: CaseHandler, item: Notification) -> None:
        if not syncs:
            syncs.append(self)
        record(item)

    monkeypatch.setattr(CaseHandler, "handle", handle)
    record.original = lambda item: original(syncs[0], item)
    return record


@pytest.mark.django_db(transaction=True)
def test_workers_get_the_next_listing_before_the_batch_is_done(hubee, recorded):
    demarche = hubee.demarche(rules={"allows_messages": True}, allows_messages=True)
    hubee.connection.batch_size = 2
    hubee.connection.save()
    first, second, third = (hubee.deposit(demarche, files=ONE_FILE) for _ in range(3))
    sandbox.osl_message(first, "Une précision sur ma demande.")
    seen: dict[str, list[Notification]] = {}
    third_done = threading.Event()
    released: list[bool] = []

    def handler(item: Notification) -> None:
        case = item.case_id.lower()
        seen.setdefault(case, []).append(item)
        if case == str(first.id) and item.is_new_case:
            # In flight until the third case, listed after it, is done: a barrier at the end
            # of each batch would wait for this one first.
            released.append(third_done.wait(GUARD))
        recorded.original(item)
        if case == str(third.id):
            third_done.set()

    recorded.handler = handler
    outcome = hubee.sync(demarche, concurrency=2)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    assert released == [True]
    assert recorded.overlaps == []
    new_case, message = seen[str(first.id)]
    assert new_case.is_new_case and not message.is_new_case
    assert recorded.index("end", new_case) < recorded.index("start", message)
    assert set(seen) == {str(first.id), str(second.id), str(third.id)}
    assert Dossier.objects.count() == 3
    assert Evenement.objects.filter(message="Une précision sur ma demande.").exists()
    assert sandbox.pending_si_notifications(demarche.subscription) == 0


@pytest.mark.django_db(transaction=True)
def test_failed_notifications_ahead_do_not_hide_newer_ones_from_the_workers(hubee):
    demarche = hubee.demarche()
    purged = [hubee.deposit(demarche, files=ONE_FILE) for _ in range(30)]
    for case in purged:
        sandbox.purge_case(case)
    good = [hubee.deposit(demarche, files=ONE_FILE) for _ in range(5)]

    outcome = hubee.sync(demarche, concurrency=4)

    assert set(Dossier.objects.values_list("hubee_case_id", flat=True)) == {c.id for c in good}
    assert outcome.run.status == RunStatus.PARTIAL
    assert outcome.pending_failures == 30
    assert NotificationFailure.objects.filter(resolved_at__isnull=True).count() == 30
    assert sandbox.pending_si_notifications(demarche.subscription) == 30


@pytest.mark.django_db(transaction=True)
def test_refused_credentials_in_a_worker_stop_the_run(hubee, recorded, monkeypatch):
    demarche = hubee.demarche()
    for _ in range(20):
        hubee.deposit(demarche, files=ONE_FILE)
    client = hubee.client(demarche)
    listings: list[int] = []
    list_notifications = client.list_notifications

    def counted(max_result: int) -> list[Notification]:
        listings.append(max_result)
        return list_notifications(max_result)

    monkeypatch.setattr(client, "list_notifications", counted)
    calls: list[str] = []

    def handler(item: Notification) -> None:
        with recorded.lock:
            calls.append(item.id)
            refuse = len(calls) == 3
        if refuse:
            raise AuthenticationError("jeton refusé")
        recorded.original(item)

    recorded.handler = handler
    outcome = hubee.sync(demarche, concurrency=2)

    assert outcome.run.status == RunStatus.FAILED
    assert "Identifiants refusés" in outcome.run.message
    assert listings == [25]  # no listing after the stop
    # The other thread may finish the one it had started; nothing queued starts.
    assert 3 <= len(calls) <= 4
    assert sandbox.pending_si_notifications(demarche.subscription) == 20 - (len(calls) - 1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_thread_keeps_one_database_connection_and_closes_it_at_the_end(hubee, monkeypatch):
    demarche = hubee.demarche()
    for _ in range(12):
        hubee.deposit(demarche, files=ONE_FILE)
    connects: Counter[str] = Counter()
    closes: Counter[str] = Counter()
    connect, close = BaseDatabaseWrapper.connect, BaseDatabaseWrapper.close

    def counted_connect(self: BaseDatabaseWrapper) -> None:
        connects[threading.current_thread().name] += 1
        connect(self)

    def counted_close(self: BaseDatabaseWrapper) -> None:
        if self.connection is not None:
            closes[threading.current_thread().name] += 1
        close(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "connect", counted_connect)
    monkeypatch.setattr(BaseDatabaseWrapper, "close", counted_close)

    outcome = hubee.sync(demarche, concurrency=3)

    assert outcome.run.notifications_handled == 12
    workers = {name for name in connects if name.startswith("hubee-sync-")}
    assert len(workers) >= 2  # the cases were spread over threads
    assert {name: connects[name] for name in workers} == dict.fromkeys(workers, 1)
    assert {name: closes[name] for name in workers} == dict.fromkeys(workers, 1)
