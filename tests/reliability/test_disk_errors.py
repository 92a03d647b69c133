"""Disk full and read-only folder in a real `hubee_sync` process (CI runs as root, so file
permissions prove nothing: OSError ENOSPC / EROFS is injected at the file writer).

Nothing is deleted on HubEE, however many runs fail; the journal says what happened in words
an administrator understands; the next run with a working disk recovers everything.
"""

from __future__ import annotations

import pytest

from tests.reliability.scenario import guarantees_problems

pytestmark = pytest.mark.integration

CASES = 4
PUSHES = ["SI_RECEIVED"]
# More failing runs than the attempts before giving up a notification HubEE says is gone:
# a local error must never count towards giving up.
FAILING_RUNS = 4


# Disk full runs in both CI passes (SQLite and PostgreSQL); the variants once, as slow tests.
@pytest.mark.parametrize(
    ("where", "error", "words"),
    [
        pytest.param("open", "ENOSPC", "No space left on device", id="disk-full"),
        pytest.param(
            "write",
            "ENOSPC",
            "No space left on device",
            id="disk-full-mid-file",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "open", "EROFS", "Read-only file system", id="read-only-file", marks=pytest.mark.slow
        ),
        pytest.param(
            "folder",
            "EROFS",
            "Read-only file system",
            id="read-only-folder",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_disk_errors_delete_nothing_are_journaled_and_the_next_run_recovers(
    install, where, error, words
):
    portal = install()
    portal.script(f"scenario.setup({portal.url!r}, ['EtatCivil'], {CASES}, files=(2, 3), seed=3)")

    failing = portal.json(
        f"scenario.sync_with_broken_disk({where!r}, {error!r}, runs={FAILING_RUNS})"
    )
    assert failing["exit_codes"] == [1] * FAILING_RUNS  # failures pending (or run stopped)

    state = portal.report(PUSHES)
    assert state["pending_notifications"] == CASES  # nothing deleted on HubEE…
    assert state["deletes_by_status"] == {}  # …not even tried
    assert state["posts_by_status"] == {}  # no status pushed before the files are stored
    assert state["temp_files"] == []
    assert state["files_checked"] == 0 or state["extra_files"] == []

    journal = portal.json("scenario.journal()")
    runs, failures = journal["runs"], journal["failures"]
    assert len(runs) == FAILING_RUNS
    if where == "folder":
        # The démarche's folder is unusable: the whole run stops and says why.
        assert {run["status"] for run in runs} == {"failed"}
        assert all(
            run["message"].startswith("Dossier de téléchargement inutilisable")
            and words in run["message"]
            for run in runs
        ), runs
        assert failures == []
    else:
        assert {run["status"] for run in runs} == {"partial"}
        assert all("conservées sur HubEE" in run["message"] for run in runs), runs
        assert len(failures) == CASES
        for failure in failures:
            assert failure["kind"] == "local"
            assert failure["error"].startswith(f"Erreur disque : {words}"), failure
            assert failure["attempts"] == FAILING_RUNS
            assert not failure["given_up"]

    recovered = portal.sync("--concurrency", "4")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    state = portal.report(PUSHES)
    assert guarantees_problems(state, CASES) == {}
    assert state["deletes_by_status"] == {"204": CASES}
    journal = portal.json("scenario.journal()")
    assert journal["runs"][-1]["status"] == "ok"
    assert all(failure["resolved"] for failure in journal["failures"])
