"""CaseWorkers on their own: per-case order, one thread per case, stops, errors reaching the loop.

Moved from tests/dossiers/test_sync_pipeline.py (its four worker tests, unchanged). No timing is
asserted: threads are held with events, and a wait that runs out only turns a broken behaviour
into a failed assertion instead of a hung test.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest

from dossiers.exchange.inbound.workers import CaseWorkers, case_key
from hubee_portal.hubee import Notification

GUARD = 20  # seconds a held thread waits before giving up (only reached when broken)


def notification(case: str) -> Notification:
    return Notification.from_api({"id": str(uuid.uuid4()), "caseId": case, "eventId": None})


class Recorder:
    """Wraps a handler: logs starts and ends, notes a case running on two threads at once."""

    def __init__(self, handler: Callable[[Notification], None]) -> None:
        self.handler = handler
        self.lock = threading.Lock()
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.log: list[tuple[str, str]] = []

    def __call__(self, item: Notification) -> None:
        key = item.case_id.lower()
        with self.lock:
            if key in self.active:
                self.overlaps.append(key)
            self.active.add(key)
            self.log.append(("start", item.id))
        try:
            self.handler(item)
        finally:
            with self.lock:
                self.active.discard(key)
                self.log.append(("end", item.id))

    def index(self, what: str, item: Notification) -> int:
        return self.log.index((what, item.id))


# -- the workers ------------------------------------------------------------------


def test_a_case_submitted_again_while_running_waits_for_its_thread():
    a1, b1, a2, c1 = (notification(c) for c in ("aaaa", "bbbb", "aaaa", "cccc"))
    release_a1, b1_done, c1_done = threading.Event(), threading.Event(), threading.Event()
    a2_started_early: list[bool] = []

    def handler(item: Notification) -> None:
        if item is a1:
            release_a1.wait(GUARD)
        elif item is b1:
            b1_done.set()
        elif item is c1:
            c1_done.set()

    record = Recorder(handler)
    with CaseWorkers(2, record, stop=lambda: False) as workers:
        workers.submit([a1, b1])
        assert b1_done.wait(GUARD)
        # a1 holds one thread, the other is free: a2 must queue behind a1, c1 runs at once.
        workers.submit([a2, c1])
        assert c1_done.wait(GUARD)
        with record.lock:
            a2_started_early.append(("start", a2.id) in record.log)
        release_a1.set()
        workers.wait(most=0)
        assert workers.pending == 0

    assert a2_started_early == [False]
    assert record.overlaps == []
    assert record.index("end", a1) < record.index("start", a2)


def test_notifications_of_one_case_run_in_submitted_order():
    cases = [f"case-{n}" for n in range(6)]
    batches = [[notification(case) for case in cases] for _ in range(4)]
    record = Recorder(lambda item: None)
    with CaseWorkers(3, record, stop=lambda: False) as workers:
        for batch in batches:
            workers.submit(batch)
    assert record.overlaps == []
    for position in range(len(cases)):
        ends = [record.index("end", batch[position]) for batch in batches]
        starts = [record.index("start", batch[position]) for batch in batches]
        assert all(end < start for end, start in zip(ends, starts[1:], strict=False))


def test_a_stop_skips_what_is_queued():
    stopped = threading.Event()
    items = [notification("same-case") for _ in range(5)]

    def handler(item: Notification) -> None:
        if item is items[1]:
            stopped.set()

    record = Recorder(handler)
    with CaseWorkers(2, record, stop=stopped.is_set) as workers:
        workers.submit(items)
    assert [what for what, _ in record.log] == ["start", "end", "start", "end"]
    assert workers.pending == 0


def test_an_unexpected_error_in_a_worker_reaches_the_loop():
    class Boom(BaseException):
        pass

    def handler(item: Notification) -> None:
        raise Boom

    with pytest.raises(Boom), CaseWorkers(2, handler, stop=lambda: False) as workers:
        workers.submit([notification("x"), notification("y")])
        workers.wait(most=0)


def test_a_case_key_ignores_case_and_falls_back_on_the_notification():
    assert case_key(notification("AbCd")) == "abcd"
    lone_id = "0D1B2C3A-0000-4000-8000-00000000000A"
    lone = Notification.from_api({"id": lone_id, "caseId": None, "eventId": None})
    assert case_key(lone) == lone_id.lower()
