"""Two `hubee_sync` processes started together on the same démarches, on SQLite and on
PostgreSQL: the lease shares the démarches out, nothing is fetched, stored or pushed twice."""

from __future__ import annotations

import pytest

from tests.reliability.scenario import guarantees_problems

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMARCHES = ["EtatCivil", "recensementCitoyen", "CERTDC", "depotDossierPACS"]
CASES = 30
PUSHES = ["SI_RECEIVED", "DONE"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_two_workers_at_once_share_the_demarches_and_repeat_nothing(install):
    portal = install()
    portal.script(
        f"scenario.setup({portal.url!r}, {DEMARCHES!r}, {CASES}, files=(1, 3), "
        "automatic_final_status='DONE', latency_ms=5, seed=2)"
    )

    workers = [portal.popen("hubee_sync", "--concurrency", "4") for _ in range(2)]
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output

    total = CASES * len(DEMARCHES)
    state = portal.report(PUSHES)
    assert guarantees_problems(state, total) == {}, state["failures"]
    # The sandbox's log: each case read once (never by both workers), each notification
    # deleted once, each status accepted once and never refused.
    assert state["max_reads_per_case"] == 1
    assert state["deletes_by_status"] == {"204": total}
    assert state["posts_by_status"] == {"201": total * len(PUSHES)}
    # They did run at the same time: two démarches were being synced at once.
    assert state["max_runs_at_once"] == 2, outputs
