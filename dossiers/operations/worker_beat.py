"""The worker's heartbeat while it runs a task. The « Battement du worker » schedule beats
every minute, but a worker busy with a long task (a first sync of a big backlog, the weekly
integrity check) cannot take it: without this, /healthz would call a busy worker dead."""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds; well under HEALTH_WORKER_SILENCE_MINUTES

_lock = threading.Lock()
_running: dict[str, threading.Event] = {}  # task id -> stop


def _beat_until(stop: threading.Event) -> None:
    from dossiers.operations import health

    try:
        while not stop.wait(INTERVAL):
            try:
                health.beat()
            except DatabaseError:
                logger.warning("worker heartbeat failed, retried")
    finally:
        connection.close()  # this thread's own connection


def task_started(sender, func=None, task=None, **kwargs) -> None:
    """django_q.signals.pre_execute, in the worker process."""
    key = str((task or {}).get("id", ""))
    stop = threading.Event()
    with _lock:
        if key in _running:
            return
        _running[key] = stop
    threading.Thread(target=_beat_until, args=(stop,), name="worker-beat", daemon=True).start()


def task_finished(sender, func=None, task=None, **kwargs) -> None:
    """django_q.signals.post_execute_in_worker."""
    key = str((task or {}).get("id", ""))
    with _lock:
        stop = _running.pop(key, None)
    if stop is not None:
        stop.set()
