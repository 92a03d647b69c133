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


# Every path the portal ever wrote in Schedule.func or queued with async_task: rows written by
# an older version may still fire (or be resubmitted from the django-q admin) after a deploy.
KNOWN_TASK_PATHS = [
    "dossiers.tasks.enqueue_sync",
    "dossiers.tasks.sync_demarche_task",
    "dossiers.tasks.send_outgoing",
    "dossiers.tasks.heartbeat",
    "dossiers.tasks.evaluate_incidents",
    "dossiers.tasks.purge_audit",
    "dossiers.tasks.send_daily_digest",
    "dossiers.tasks.purge_expired_dossiers",
    "dossiers.tasks.verify_integrity",
    "hubee_portal.sandbox.services.run_purge",
]


def test_every_schedule_func_resolves(monkeypatch):
    from django.utils.module_loading import import_string

    from dossiers.exchange.outbound import queue
    from hubee_portal.demo import seeding

    # post_migrate wrote the portal's schedules; the demo adds its own.
    schedules.ensure_schedule()
    seeding._purge_schedule(seeding.DemoResult(base_url="http://localhost:8000"))
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert "hubee_portal.sandbox.services.run_purge" in funcs
    assert len(funcs) >= 8
    for path in sorted(funcs | set(KNOWN_TASK_PATHS)):
        assert callable(import_string(path)), path
    # What an agent's action queues, by name, is one of them.
    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kwargs: queued.append(func))
    queue.request_delivery(1)
    assert queued == ["dossiers.tasks.send_outgoing"]
    assert set(queued) <= set(KNOWN_TASK_PATHS)
