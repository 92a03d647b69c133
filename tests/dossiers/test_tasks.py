import pytest
from django_q.models import Schedule

from dossiers.operations import schedules

pytestmark = pytest.mark.django_db


def test_schedule_exists_after_migrate_and_is_idempotent(settings):
    # post_migrate created it when the test database was built.
    assert Schedule.objects.filter(name=schedules.SCHEDULE_NAME).count() == 1
    settings.HUBEE_SYNC_INTERVAL_MINUTES = 5
    schedules.ensure_schedule()
    schedules.ensure_schedule()
    schedule = Schedule.objects.get(name=schedules.SCHEDULE_NAME)
    assert schedule.func == "dossiers.tasks.enqueue_sync"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 5, -1)


def test_cluster_settings_avoid_double_delivery(settings):
    cluster = settings.Q_CLUSTER
    assert cluster["retry"] > cluster["timeout"]
    assert cluster["catch_up"] is False
    assert cluster["max_attempts"] == 1
