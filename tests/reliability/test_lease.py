"""The démarche lease after a kill -9: taken over at once when its process is gone on this
host, never while its owner may still be working (see dossiers/exchange/lease.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers.exchange import lease
from dossiers.models import DemarcheLease
from tests.factories import DemarcheFactory

pytestmark = pytest.mark.django_db

TTL = timedelta(minutes=10)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return process.pid


def owner_with(pid: int, host: str | None = None, namespace: str | None = None) -> str:
    host = host or lease._host()
    namespace = namespace or lease._pid_namespace()
    return f"{host}:{pid}:{namespace}:0badcafe"


def holder(demarche) -> str:
    return DemarcheLease.objects.get(pk=demarche.pk).owner


@pytest.fixture
def demarche():
    return DemarcheFactory()


def test_the_owner_records_host_pid_and_pid_namespace():
    host, pid, namespace, token = lease.new_owner().split(":")
    assert (host, int(pid), namespace) == (lease._host(), os.getpid(), lease._pid_namespace())
    assert len(token) == 8
    assert len(lease.new_owner()) <= DemarcheLease._meta.get_field("owner").max_length


def test_a_lease_whose_process_was_killed_is_taken_over_at_once(demarche):
    assert lease.acquire(demarche.pk, owner_with(dead_pid()), TTL)
    mine = lease.new_owner()
    assert lease.acquire(demarche.pk, mine, TTL)
    assert holder(demarche) == mine


def test_a_killed_process_not_yet_reaped_is_gone_too(demarche):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # noqa: S603
    try:
        assert lease.acquire(demarche.pk, owner_with(process.pid), TTL)
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not lease.owner_is_dead(owner_with(process.pid)):
            time.sleep(0.01)  # until the kernel has turned it into a zombie
        assert lease.acquire(demarche.pk, lease.new_owner(), TTL)
    finally:
        process.kill()
        process.wait()


def test_a_live_owner_keeps_its_lease_until_it_expires(demarche):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:  # noqa: S603
        try:
            assert lease.acquire(demarche.pk, owner_with(alive.pid), TTL)
            assert not lease.acquire(demarche.pk, lease.new_owner(), TTL)
            assert holder(demarche) == owner_with(alive.pid)
        finally:
            alive.kill()


def test_another_run_in_this_process_keeps_its_lease(demarche):
    first = lease.new_owner()
    assert lease.acquire(demarche.pk, first, TTL)
    assert not lease.acquire(demarche.pk, lease.new_owner(), TTL)
    assert holder(demarche) == first


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param(lambda pid: owner_with(pid, host="autre-serveur"), id="another host"),
        pytest.param(lambda pid: owner_with(pid, namespace="1"), id="another pid namespace"),
        pytest.param(lambda pid: f"{lease._host()}:{pid}:0badcafe", id="old owner format"),
        pytest.param(lambda pid: "autre-worker", id="unreadable owner"),
    ],
)
def test_a_dead_pid_elsewhere_proves_nothing_so_the_lease_waits_for_its_expiry(demarche, owner):
    held = owner(dead_pid())
    assert lease.acquire(demarche.pk, held, TTL)
    assert not lease.acquire(demarche.pk, lease.new_owner(), TTL)
    assert holder(demarche) == held

    DemarcheLease.objects.filter(pk=demarche.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    mine = lease.new_owner()
    assert lease.acquire(demarche.pk, mine, TTL)
    assert holder(demarche) == mine


def test_two_runs_racing_for_a_dead_owner_lease_cannot_both_win(demarche, monkeypatch):
    assert lease.acquire(demarche.pk, owner_with(dead_pid()), TTL)
    first, second = lease.new_owner(), lease.new_owner()
    real_owner_is_dead = lease.owner_is_dead

    def first_takes_it_meanwhile(owner: str) -> bool:
        # The second run read the dead owner; meanwhile the first run swapped it for itself.
        DemarcheLease.objects.filter(pk=demarche.pk, owner=owner).update(owner=first)
        return real_owner_is_dead(owner)

    monkeypatch.setattr(lease, "owner_is_dead", first_takes_it_meanwhile)
    assert not lease.acquire(demarche.pk, second, TTL)
    assert holder(demarche) == first
