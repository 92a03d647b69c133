"""A status push in flight when `hubee_sync` is killed: HubEE may still be processing the
POST when the next run (which takes the dead run's lease over at once) reads the case back.
It must not be sent a second time."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.reliability.scenario import guarantees_problems

pytestmark = pytest.mark.integration

SLOW_POST = 6  # seconds HubEE takes to process the first status push
# How long a cut-off POST may still land: connect + read timeout of the HTTP client.
CONNECT_TIMEOUT, READ_TIMEOUT = 1, 8
SETTLE = CONNECT_TIMEOUT + READ_TIMEOUT

# In the sandbox server's process: the first POST of an event takes SLOW_POST seconds, and
# leaves a marker file when it starts.
SLOW_FIRST_POST = f"""
import os, time
from pathlib import Path
from hubee_portal.sandbox import views

marker = Path(os.environ["DATA_DIR"]) / "post-started"
require_uuid = views.ApiCall.require_uuid

def slow_first_post(self, value, name):
    if self.method == "POST" and self.api_path.endswith("/events") and not marker.exists():
        marker.touch()
        time.sleep({SLOW_POST})
    return require_uuid(self, value, name)

views.ApiCall.require_uuid = slow_first_post
"""


def test_a_push_cut_off_by_a_kill_is_not_sent_again_while_it_may_still_land(install):
    portal = install(
        server_patch=SLOW_FIRST_POST,
        HUBEE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        HUBEE_READ_TIMEOUT=str(READ_TIMEOUT),
    )
    portal.script(f"scenario.setup({portal.url!r}, ['EtatCivil'], 1, files=(2, 2), seed=6)")
    marker = portal.workdir / "data" / "post-started"

    first = portal.popen("hubee_sync")
    deadline = time.monotonic() + 60
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), first.stdout.read() if first.poll() is not None else "no POST"
    os.killpg(first.pid, signal.SIGKILL)  # the POST is on its way, HubEE not done with it
    first.wait()
    killed_at = time.monotonic()

    # At once: the lease is taken over, the files are there, the push is not sent again…
    rerun = portal.sync()
    journal = portal.json("scenario.journal()")
    # …until the cut-off POST can no longer be in flight: then it is found on the case.
    time.sleep(max(0.0, killed_at + SETTLE + 0.5 - time.monotonic()))
    last = portal.sync()

    state = portal.report(["SI_RECEIVED"])
    assert state["posts_by_status"] == {"201": 1}  # one POST, never a second one
    assert guarantees_problems(state, 1) == {}
    assert state["deletes_by_status"] == {"204": 1}
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    failure = journal["failures"][0]
    assert failure["kind"] == "transient"
    assert "interrompu" in failure["error"], failure
    assert last.returncode == 0, last.stdout + last.stderr
