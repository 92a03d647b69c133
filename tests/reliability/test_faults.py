"""Every fault switch of the sandbox on, against `hubee_sync` in its own process: 5xx answers,
latency, short-lived tokens, truncated downloads, wrong digests, lost answers after a POST, and
purged cases. Everything is received but the purged cases, which are given up and journaled."""

from __future__ import annotations

import pytest

from tests.reliability.scenario import guarantees_problems

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMARCHES = ["EtatCivil", "CERTDC"]
CASES = 8
PURGED = 2
PUSHES = ["SI_RECEIVED", "DONE"]
NOT_FOUND_ATTEMPTS = 3  # the connection's default: runs answering 404 before giving up


def test_all_faults_on_everything_received_but_the_purged_cases_given_up(install):
    portal = install()
    portal.script(
        f"scenario.setup({portal.url!r}, {DEMARCHES!r}, {CASES}, files=(1, 3), "
        "automatic_final_status='DONE', seed=5)"
    )
    purged = portal.json(f"scenario.purge({PURGED})")["purged"]
    portal.script("scenario.all_faults_on(seed=5)")

    codes = []
    for _ in range(NOT_FOUND_ATTEMPTS):
        result = portal.sync("--concurrency", "4")
        codes.append(result.returncode)
    # Pending (the purged cases) until the last run gives them up.
    assert codes == [1] * (NOT_FOUND_ATTEMPTS - 1) + [0], result.stdout + result.stderr

    state = portal.report(PUSHES)
    assert state["purged"] == purged
    assert state["given_up"] == purged  # journaled as given up (HubEE answers 404)
    assert guarantees_problems(state, CASES * len(DEMARCHES) - PURGED) == {}, state["failures"]
    # The faults were hit: answers lost after HubEE recorded the event (then found by reading
    # the case back, never posted again), and 5xx on deletions (retried).
    assert state["posts_by_status"].get("504", 0) > 0, state["posts_by_status"]
    assert not set(state["posts_by_status"]) - {"201", "500", "502", "503", "504"}
    assert any(code.startswith("5") for code in state["deletes_by_status"]), state
