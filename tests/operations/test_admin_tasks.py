"""django-q2's admin (« Tâches ») as a door around issue 11's fixes (found in its review).

- A staff account holding `django_q.add_schedule` (or `change_schedule`) makes the worker call
  any importable function: the client secret comes back in clear in the task's result.
- django-q2's « Resubmit selected tasks to queue » action declares no permission: a view-only
  account re-runs tasks and, on failed ones, deletes the journal rows.

"""

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_q.models import Failure, Schedule, Success, Task

from tests.conftest import log_in
from tests.factories import DemarcheFactory, staff_with

pytestmark = pytest.mark.django_db

SECRET = "secret-client-a-ne-jamais-divulguer"


def _add_schedule(client, func: str, args: str) -> None:
    now = timezone.localtime() - timezone.timedelta(minutes=1)
    response = client.post(
        reverse("admin:django_q_schedule_add"),
        {
            "name": f"maintenance {func}",
            "func": func,
            "hook": "",
            "args": args,
            "kwargs": "",
            "schedule_type": Schedule.ONCE,
            "minutes": "",
            "repeats": "-1",
            "next_run_0": now.strftime("%Y-%m-%d"),
            "next_run_1": now.strftime("%H:%M:%S"),
            "cron": "",
            "cluster": "",
            "intended_date_kwarg": "",
        },
    )
    assert response.status_code in (302, 403, 200)


def _run_due_schedules() -> None:
    from django_q.scheduler import scheduler

    scheduler()  # what the worker's scheduler does every 30 s (Q_CLUSTER sync: runs inline)


def test_staff_with_schedule_permission_cannot_read_a_client_secret(client):
    demarche = DemarcheFactory(client_secret=SECRET)
    Schedule.objects.all().delete()  # only the attacker's schedules run here (no sync, no network)
    log_in(
        client,
        staff_with("django_q.add_schedule", "django_q.view_schedule", "django_q.view_success"),
    )

    # 1. The encrypted secrets, returned as a task result; 2. decrypted by the portal's own
    # helper, in the worker that holds ENCRYPTION_KEY.
    _add_schedule(
        client, "demarches.models.Demarche.objects.values_list", "('client_secret_encrypted',)"
    )
    _add_schedule(client, "demarches.crypto.decrypt", repr(demarche.client_secret_encrypted))
    _run_due_schedules()

    pages = "".join(
        client.get(reverse("admin:django_q_success_change", args=[task.pk])).content.decode()
        for task in Success.objects.all()
    )
    assert demarche.client_secret_encrypted not in pages
    assert SECRET not in pages
    assert not Schedule.objects.filter(name__startswith="maintenance").exists()
    assert not Task.objects.filter(func__startswith="demarches.").exists()


def test_view_only_staff_cannot_resubmit_nor_delete_failed_tasks(client):
    failure = Failure.objects.create(
        id="0" * 32,
        name="echec-de-synchronisation",
        func="dossiers.tasks.heartbeat",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
        result="boom",
    )
    log_in(client, staff_with("django_q.view_failure"))

    client.post(
        reverse("admin:django_q_failure_changelist"),
        {"action": "resubmit_task", "_selected_action": [failure.pk]},
    )

    assert Failure.objects.filter(pk=failure.pk).exists()  # the journal row is still there
    assert not Success.objects.filter(func="dossiers.tasks.heartbeat").exists()  # not re-run


def test_every_admin_action_declares_its_permission(rf, admin_user):
    # Ours and the libraries' (django-q2, django-axes): an action without permissions is
    # offered to any account that may open the list, a view-only one included.
    request = rf.get("/admin/")
    request.user = admin_user
    undeclared = [
        f"{model._meta.label}: {name}"
        for model, model_admin in admin.site._registry.items()
        for func, name, _ in model_admin._get_base_actions()
        if not getattr(func, "allowed_permissions", None)
    ]
    assert undeclared == []


def test_only_a_superuser_writes_what_the_worker_runs(client, admin_user):
    staff = staff_with(
        "django_q.add_schedule",
        "django_q.change_schedule",
        "django_q.delete_schedule",
        "django_q.view_schedule",
        "django_q.change_ormq",
        "django_q.view_ormq",
    )
    log_in(client, staff)
    schedule = Schedule.objects.first()

    assert client.get(reverse("admin:django_q_schedule_add")).status_code == 403
    page = client.get(reverse("admin:django_q_schedule_change", args=[schedule.pk]))
    assert page.status_code == 200  # read-only: they may still see what runs and when
    assert 'name="func"' not in page.content.decode()
    log_in(client, admin_user)
    assert client.get(reverse("admin:django_q_schedule_add")).status_code == 200
