"""kill -9 of `hubee_sync` at seeded random moments of a 200-case sync, rerun after each kill.

In-process crashes between every pair of steps are in tests/dossiers/test_crash_recovery.py;
here the process really dies (no finally, no rollback but the database's own), its lease row
stays held, and its half-written files stay on disk.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.reliability.scenario import RECORD_TRUNCATED_REQUESTS, guarantees_problems

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Another seed, other moments: RELIABILITY_SEED=… (a failure names the seed it ran with).
SEED = int(os.environ.get("RELIABILITY_SEED", "20240611"))
CASES = 200
# 14 moments per run (CI time); another seed kills at others.
KILLS = int(os.environ.get("RELIABILITY_KILLS", "14"))
PUSHES = ["SI_RECEIVED", "DONE"]  # automatic status, then automatic final status
# A POST cut off by a kill may land on HubEE until the HTTP timeouts have passed: until then a
# rerun does not send that push again
# (dossiers.exchange.outbound.push.check_unfinished_attempt). Short here.
CONNECT_TIMEOUT, READ_TIMEOUT = 2, 10
SETTLE = CONNECT_TIMEOUT + READ_TIMEOUT


def files_on_disk(root: Path) -> tuple[int, set[str]]:
    """(number of final files, names of the temporary files) under the download folder."""
    final, temp = 0, set()
    if root.is_dir():
        for path in root.rglob("*"):
            if path.name.startswith(".hubee-part-"):
                temp.add(path.name)
            elif path.is_file():
                final += 1
    return final, temp


def kill_at_random_moment(install, root: Path, rng: random.Random) -> dict:
    """Start hubee_sync and kill -9 it at a seeded random moment of its work: once it has
    stored a random number of new files (1 to 8), plus a random delay (0 to 300 ms).

    Moments are counted in work done, not in seconds, so that the 20 kills land mid-way on a
    fast machine as on a loaded one. Returns what the kill left behind."""
    before, left_before = files_on_disk(root)
    files_to_wait, delay = rng.randint(1, 8), rng.uniform(0.0, 0.3)
    process = install.popen("hubee_sync", "--concurrency", "4")
    started = time.monotonic()
    deadline = started + 20  # no file left to write: kill it anyway (pushes, deletions)
    while process.poll() is None and time.monotonic() < deadline:
        final, _ = files_on_disk(root)
        if final - before >= files_to_wait:
            break
        time.sleep(0.01)
    time.sleep(delay)
    alive = process.poll() is None
    if alive:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    output = process.stdout.read()
    final, temp = files_on_disk(root)
    return {
        "killed": alive,
        "at": round(time.monotonic() - started, 2),
        "files": final,
        "progress": final - before,
        "temp_left": len(temp - left_before),
        "output": output[-2000:],
    }


def test_kill_9_at_random_moments_then_rerun_loses_nothing_and_repeats_nothing(install):
    portal = install(
        server_patch=RECORD_TRUNCATED_REQUESTS,
        HUBEE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        HUBEE_READ_TIMEOUT=str(READ_TIMEOUT),
    )
    portal.script(
        f"scenario.setup({portal.url!r}, ['EtatCivil'], {CASES}, files=(1, 4), "
        f"automatic_final_status='DONE', latency_ms=10, seed={SEED})"
    )
    root = portal.workdir / "data" / "telechargements" / "EtatCivil"
    rng = random.Random(SEED)  # noqa: S311  (seeded test moments)

    kills = []
    while len(kills) < KILLS:
        outcome = kill_at_random_moment(portal, root, rng)
        # A run that ends before its kill either skipped the démarche (the killed run's lease
        # was not taken over) or found nothing left (the scenario is too short).
        assert outcome["killed"], (
            f"hubee_sync ended by itself before kill #{len(kills) + 1}:\n{outcome['output']}"
        )
        kills.append(outcome)

    # Every rerun made progress before its kill: each took over the démarche whose lease the
    # killed process still held (no wait for the lease to expire).
    assert all(k["progress"] > 0 for k in kills), kills

    # The pushes cut off by the last kills can no longer be in flight: one run finishes it all.
    time.sleep(SETTLE)
    final = portal.sync("--concurrency", "4")
    assert final.returncode == 0, f"seed {SEED}\n{final.stdout}{final.stderr}"
    assert "déjà en cours ailleurs" not in final.stdout

    state = portal.report(PUSHES)
    assert guarantees_problems(state, CASES) == {}, f"seed {SEED}"
    # The sandbox's log: every notification deleted once, every status accepted once, and no
    # POST refused but those a kill cut off in the middle of their body.
    assert state["deletes_by_status"] == {"204": CASES}
    log = portal.workdir / "data" / "truncated-requests"
    lines = log.read_text().splitlines() if log.exists() else []
    cut_off = sum(1 for line in lines if line.startswith("POST ") and line.endswith("/events"))
    expected_posts = {"201": CASES * len(PUSHES), "400": cut_off}
    assert state["posts_by_status"] == {k: v for k, v in expected_posts.items() if v}
    print(  # noqa: T201  (shown with -s: where the kills landed)
        "kills (s after start, files on disk, temp files left):",
        [(k["at"], k["files"], k["temp_left"]) for k in kills],
    )
