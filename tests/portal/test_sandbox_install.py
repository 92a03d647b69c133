"""The sandbox, the demo and the benchmarks exist only where HUBEE_SANDBOX is on: a production
install has none of their tables, URLs, schedules or commands (real processes, real migrate)."""

import json

from tests.portal.test_settings import production_env, run

STATE = """
import json
import django
django.setup()
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import Resolver404, resolve
from django_q.models import Schedule
try:
    resolve("/sandbox/")
    sandbox_url = True
except Resolver404:
    sandbox_url = False
print(json.dumps({
    "apps": settings.INSTALLED_APPS,
    "tables": connection.introspection.table_names(),
    "schedules": list(Schedule.objects.values_list("func", flat=True)),
    "content_types": list(ContentType.objects.values_list("app_label", flat=True).distinct()),
    "sandbox_url": sandbox_url,
}))
"""
OLD_SCHEDULE = """
import django
django.setup()
from django_q.models import Schedule
Schedule.objects.create(
    name="Purge quotidienne du bac à sable", func="hubee_portal.sandbox.services.run_purge",
    schedule_type=Schedule.DAILY, repeats=-1,
)
"""


def manage(env, *args):
    result = run(["manage.py", *args], env, script=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def state(env):
    result = run(STATE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def sandbox_tables(found):
    return [table for table in found["tables"] if table.startswith("sandbox_")]


def test_a_production_install_has_no_sandbox(tmp_path):
    env = production_env(tmp_path, HUBEE_SANDBOX="false")
    manage(env, "migrate", "--noinput")

    found = state(env)
    assert sandbox_tables(found) == []
    assert not {"hubee_portal.sandbox", "hubee_portal.demo", "tools.bench"} & set(found["apps"])
    assert not any(func.startswith("hubee_portal.sandbox.") for func in found["schedules"])
    assert "dossiers.tasks.enqueue_sync" in found["schedules"]
    assert found["sandbox_url"] is False
    # Neither the demo nor the benchmarks are commands there.
    for command in ("hubee_demo", "hubee_benchmark", "hubee_sandbox_server"):
        assert run(["manage.py", command, "--help"], env, script=False).returncode != 0


def test_an_upgraded_install_loses_the_schedule_then_the_tables_as_documented(tmp_path):
    """Before, every install had the sandbox: its nightly purge goes at the next migrate, its
    tables with the two commands of docs/exploitation.md."""
    env = production_env(tmp_path)
    manage({**env, "HUBEE_SANDBOX": "true"}, "migrate", "--noinput")
    assert run(OLD_SCHEDULE, {**env, "HUBEE_SANDBOX": "true"}).returncode == 0
    assert sandbox_tables(state({**env, "HUBEE_SANDBOX": "true"}))

    manage({**env, "HUBEE_SANDBOX": "false"}, "migrate", "--noinput")
    upgraded = state({**env, "HUBEE_SANDBOX": "false"})
    assert not any(f.startswith("hubee_portal.sandbox.") for f in upgraded["schedules"])
    assert sandbox_tables(upgraded)  # kept until the administrator drops them

    manage({**env, "HUBEE_SANDBOX": "true"}, "migrate", "sandbox", "zero", "--noinput")
    manage(
        {**env, "HUBEE_SANDBOX": "false"},
        "remove_stale_contenttypes",
        "--include-stale-apps",
        "--noinput",
    )
    cleaned = state({**env, "HUBEE_SANDBOX": "false"})
    assert sandbox_tables(cleaned) == []
    assert "sandbox" not in cleaned["content_types"]
