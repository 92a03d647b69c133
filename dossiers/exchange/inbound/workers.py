"""Threads fed notifications across listings, case by case (one case never on two threads)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from django.db import connection

from hubee_portal.hubee import Notification


def case_key(notification: Notification) -> str:
    return (notification.case_id or notification.id).lower()


class CaseWorkers:
    """Threads fed notifications across listings, case by case.

    A case's notifications run in the order submitted, on one thread at a time; different cases
    run concurrently. Threads start at the first submit; leaving the block waits for the queued
    work (or, on an exception, only for the notifications already started).
    """

    def __init__(
        self, size: int, process: Callable[[Notification], None], *, stop: Callable[[], bool]
    ) -> None:
        self.size = size
        self._process = process
        self._stop = stop
        self._condition = threading.Condition()
        self._queues: dict[str, deque[Notification]] = {}  # cases queued or running
        self._ready: deque[str] = deque()  # cases waiting for a thread
        self._pending = 0  # notifications submitted and not finished
        self._closing = False
        self._cancelled = False
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> CaseWorkers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        with self._condition:
            self._closing = True
            self._cancelled = exc_type is not None
            self._condition.notify_all()
        for thread in self._threads:
            thread.join()
        if exc_type is None and self._error is not None:
            raise self._error

    @property
    def pending(self) -> int:
        with self._condition:
            return self._pending

    def submit(self, notifications: Iterable[Notification]) -> None:
        with self._condition:
            for notification in notifications:
                self._pending += 1
                key = case_key(notification)
                queue = self._queues.get(key)
                if queue is None:
                    self._queues[key] = deque([notification])
                    self._ready.append(key)
                else:  # queued or running: its thread takes it after the earlier ones
                    queue.append(notification)
            self._condition.notify_all()
        while len(self._threads) < self.size:
            thread = threading.Thread(
                target=self._work, name=f"hubee-sync-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def wait(self, *, most: int) -> None:
        """Until at most `most` notifications are queued or running."""
        with self._condition:
            while self._pending > most and self._error is None:
                self._condition.wait()
            if self._error is not None:
                raise self._error

    def _work(self) -> None:
        # One database connection per thread for the whole run (a new PostgreSQL connection
        # per case cost a connect each); closed when the thread ends.
        try:
            while True:
                with self._condition:
                    while not self._ready and not self._closing:
                        self._condition.wait()
                    if not self._ready:
                        return
                    key = self._ready.popleft()
                try:
                    self._run_case(key)
                finally:
                    if connection.errors_occurred:  # never carry a broken one to the next case
                        connection.close()
        finally:
            connection.close()

    def _run_case(self, key: str) -> None:
        while True:
            with self._condition:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                notification = queue.popleft()
                skip = self._cancelled or self._error is not None
            try:
                if not skip and not self._stop():
                    self._process(notification)
            except BaseException as exc:  # a bug: stop feeding, report it to the loop
                with self._condition:
                    self._error = self._error or exc
            finally:
                with self._condition:
                    self._pending -= 1
                    self._condition.notify_all()
