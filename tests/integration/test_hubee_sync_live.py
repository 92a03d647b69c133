"""`hubee_sync` in its own process against the sandbox served by another process."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration import live

pytestmark = pytest.mark.integration


@pytest.fixture
def portal(tmp_path):
    env = live.environment(tmp_path)
    migrated = live.manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    server = live.SandboxServer(env)
    try:
        yield env, server
    finally:
        server.stop()


def sync(env) -> tuple[int, str]:
    result = live.manage(env, "hubee_sync", "--concurrency", "4")
    return result.returncode, result.stdout + result.stderr


def test_hubee_sync_against_a_live_sandbox(portal):
    env, server = portal
    live.script(env, f"live.setup({server.url!r}, cases_per_demarche=12)")

    code, output = sync(env)
    assert code == 0, output
    state = json.loads(live.script(env, "live.report()").stdout)
    assert state["cases"] == state["dossiers"] == 36
    assert state["mismatches"] == []
    assert state["pending_notifications"] == 0
    assert state["temp_files"] == []
    assert all(len(pushes) == 1 for pushes in state["status_pushes"].values())
    assert "36 dossier(s) créé(s)" in output

    # The citizen side moves: complements, messages, closures, acknowledgements.
    live.script(env, "live.citizen_events()")
    code, output = sync(env)
    assert code == 0, output
    state = json.loads(live.script(env, "live.report()").stdout)
    assert state["mismatches"] == []
    assert state["pending_notifications"] == 0
    assert all(len(pushes) == 1 for pushes in state["status_pushes"].values())
    calls = sum(int(n) for n in re.findall(r"(\d+) appel\(s\) à l'API", output))
    assert calls > 0

    # Nothing left: an idle pass in a fresh process costs one listing per démarche, no token:
    # it reuses the one the earlier process stored (demarches.access_tokens, issue 22).
    code, output = sync(env)
    assert code == 0, output
    assert re.findall(r"(\d+) appel\(s\) à l'API", output) == ["1", "1", "1"]


def test_exit_codes_tell_pending_failures_and_connection_errors(portal):
    env, server = portal
    live.script(env, f"live.setup({server.url!r}, cases_per_demarche=2)")
    live.script(
        env,
        "from hubee_portal.sandbox import services as s\n"
        "from hubee_portal.sandbox.models import Case\n"
        "s.purge_case(Case.objects.order_by('external_id').first())",
    )
    code, output = sync(env)
    assert code == 1, output  # a purged case stays pending until given up
    assert "1 en attente" in output

    live.script(
        env,
        "from demarches.models import Demarche\n"
        "d = Demarche.objects.get(process_code='CERTDC'); d.client_secret = 'faux'; d.save()",
    )
    code, output = sync(env)
    assert code == 2, output
    assert "Identifiants refusés par HubEE" in output
