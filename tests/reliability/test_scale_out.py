"""Scale-out: two django-q2 clusters (two machines) sharing a Redis broker and a PostgreSQL
database process the sync schedule with the same guarantees as one worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.reliability.scenario import guarantees_problems

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMARCHES = ["EtatCivil", "recensementCitoyen", "CERTDC", "depotDossierPACS"]
CASES = 15
PUSHES = ["SI_RECEIVED"]
DEADLINE = 120  # seconds for the clusters to drain the schedule


def stop(cluster) -> str:
    """SIGTERM to the cluster's sentinel (a clean stop), SIGKILL to all if it hangs."""
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=30)
    return cluster.stdout.read()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_clusters_sharing_redis_and_postgresql_process_the_schedule(install, redis_url):
    # One worker per cluster: two sync tasks running at once prove both clusters worked.
    portal = install(REDIS_URL=redis_url, Q_WORKERS="1")
    portal.script(
        f"scenario.setup({portal.url!r}, {DEMARCHES!r}, {CASES}, files=(1, 3), "
        "latency_ms=10, seed=4)"
    )
    clusters = [portal.popen("qcluster") for _ in range(2)]

    fired = portal.json("scenario.fire_schedule()")
    # The extra fan-out plans every démarche, or none if the scheduler's ran first (issue 22:
    # a démarche polled, leased or with a run queued is not planned again).
    assert fired["demarches"] in (0, len(DEMARCHES))
    # At least one full run per démarche: its listing showed notifications.
    expected_syncs = len(DEMARCHES)
    deadline = time.monotonic() + DEADLINE
    while True:
        state = portal.json("scenario.cluster_state()")
        done = (
            state["fan_outs_done"] >= 1
            and state["syncs_done"] >= expected_syncs
            and state["pending_notifications"] == 0
            and state["runs_unfinished"] == 0
        )
        dead = [c.pid for c in clusters if c.poll() is not None]
        if done or dead or time.monotonic() > deadline:
            break
        time.sleep(1)
    outputs = [stop(cluster) for cluster in clusters]
    assert not dead, outputs
    assert done, (state, outputs)
    assert state["syncs_failed"] == [], state

    total = CASES * len(DEMARCHES)
    report = portal.report(PUSHES)
    assert guarantees_problems(report, total) == {}, report["failures"]
    assert report["max_reads_per_case"] == 1
    assert report["deletes_by_status"] == {"204": total}
    assert report["posts_by_status"] == {"201": total * len(PUSHES)}
    assert report["max_runs_at_once"] == 2, (state, outputs)
