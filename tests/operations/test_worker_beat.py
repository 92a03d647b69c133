"""A worker busy with a long task still beats: /healthz does not call it dead."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.tasks import async_task

from dossiers.models import Heartbeat
from dossiers.operations import health, worker_beat

# The beating thread has its own database connection: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def long_task(seconds: float) -> str:
    time.sleep(seconds)
    return "fini"


def test_a_long_task_keeps_the_heartbeat_fresh(monkeypatch, settings):
    monkeypatch.setattr(worker_beat, "INTERVAL", 0.05)
    old = timezone.now() - timedelta(minutes=30)
    health.beat(old)
    # Q_CLUSTER sync in tests: the task runs here, through django-q's worker and its signals.
    async_task("tests.operations.test_worker_beat.long_task", 0.5)
    beat_at = Heartbeat.objects.get(name=health.HEARTBEAT_NAME).beat_at
    assert beat_at > old + timedelta(minutes=29)
    assert health.check().worker["ok"] is True
    # Stopped with the task: no thread keeps beating for a worker that may be gone.
    assert worker_beat._running == {}
    health.beat(old)
    time.sleep(0.2)
    assert Heartbeat.objects.get(name=health.HEARTBEAT_NAME).beat_at == old
