"""The operations schedules exist once each, and the heartbeat task feeds /healthz."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from dossiers import tasks
from dossiers.models import Heartbeat
from dossiers.operations import schedules

pytestmark = pytest.mark.django_db


def test_heartbeat_schedule_and_task():
    schedules.ensure_schedule()
    schedules.ensure_schedule()
    schedule = Schedule.objects.get(name=schedules.HEARTBEAT_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "dossiers.tasks.heartbeat",
        Schedule.MINUTES,
        1,
    )
    assert not Heartbeat.objects.exists()
    tasks.heartbeat()
    tasks.heartbeat()
    assert Heartbeat.objects.count() == 1
