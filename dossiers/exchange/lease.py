"""One run per démarche at a time: a lease row taken with a conditional UPDATE.

select_for_update is a no-op on SQLite, and one long transaction would fight the
commit-before-delete order, so the lease is a short UPDATE … WHERE free-or-expired-or-mine.

A run killed with SIGKILL (OOM killer, django-q's timeout, an operator) cannot release its
lease. Its owner string records where it ran — `host:pid:pid-namespace:random` — so a run on
the same host and in the same PID namespace takes the lease over as soon as that process is
gone, instead of waiting for the expiry. A live process (even one that reused the pid), another
host or an owner we cannot read keeps the lease until it expires: a takeover never happens
while the owner may still be working. The takeover itself is a compare-and-swap on the exact
owner string, so two runs racing for it cannot both win.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from dossiers.models import DemarcheLease

# How long a sync (or a push, a purge) holds its démarche unless renewed.
LEASE_TTL = timedelta(minutes=10)

logger = logging.getLogger(__name__)


def _host() -> str:
    return socket.gethostname()[:40].replace(":", "_")


@cache
def _pid_namespace() -> str:
    """The PID namespace's inode on Linux (a container has its own), "-" elsewhere."""
    try:
        match = re.search(r"\[(\d+)\]", os.readlink("/proc/self/ns/pid"))
    except OSError:
        return "-"
    return match.group(1) if match else "-"


def new_owner() -> str:
    return f"{_host()}:{os.getpid()}:{_pid_namespace()}:{uuid.uuid4().hex[:8]}"


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, under another user
        return False
    try:  # a killed child its parent has not reaped yet runs no code either
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def owner_is_dead(owner: str) -> bool:
    """True only if `owner` ran on this host, in this PID namespace, and its process is gone."""
    parts = owner.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    host, pid, namespace, _ = parts
    if host != _host() or namespace != _pid_namespace() or int(pid) == os.getpid():
        return False
    return _process_gone(int(pid))


def acquire(demarche_id: int, owner: str, ttl: timedelta) -> bool:
    try:
        with transaction.atomic():
            DemarcheLease.objects.get_or_create(demarche_id=demarche_id)
    except IntegrityError:
        pass  # created by a concurrent run: fine, the UPDATE below decides
    now = timezone.now()
    leases = DemarcheLease.objects.filter(demarche_id=demarche_id)
    taken = leases.filter(Q(owner="") | Q(expires_at__lt=now) | Q(owner=owner)).update(
        owner=owner, expires_at=now + ttl
    )
    if taken:
        return True
    holder = leases.values_list("owner", flat=True).first()
    if not (holder and owner_is_dead(holder)):
        return False
    # Compare-and-swap on the dead owner: of two runs racing here, one wins.
    if not leases.filter(owner=holder).update(owner=owner, expires_at=now + ttl):
        return False
    logger.warning("démarche %s: lease of %s taken over (its process is gone)", demarche_id, holder)
    return True


def renew(demarche_id: int, owner: str, ttl: timedelta) -> bool:
    return (
        DemarcheLease.objects.filter(demarche_id=demarche_id, owner=owner).update(
            expires_at=timezone.now() + ttl
        )
        == 1
    )


def release(demarche_id: int, owner: str) -> None:
    DemarcheLease.objects.filter(demarche_id=demarche_id, owner=owner).update(
        owner="", expires_at=None
    )


RENEWALS_PER_TTL = 3  # a renewal that fails once still leaves two chances before expiry


@contextmanager
def held(demarche_id: int, ttl: timedelta, owner: str | None = None) -> Iterator[KeepAlive | None]:
    """The démarche's lease for the block, renewed from a thread, then released. Yields None
    (and runs nothing of the block's work) when another run holds it: check before working.
    `keeper.lost` is set if the lease is lost meanwhile: stop starting work then."""
    owner = owner or new_owner()
    if not acquire(demarche_id, owner, ttl):
        yield None
        return
    try:
        with KeepAlive(demarche_id, owner, ttl) as keeper:
            yield keeper
    finally:
        release(demarche_id, owner)


class KeepAlive:
    """Renews a lease from a daemon thread while a run holds it, so that a batch longer than
    the lease's TTL (big files, slow HubEE) is never taken over by another server meanwhile.

    Renewal stops when the lease is lost (`lost` is set; the run notices at its next renew)
    and after `max_hold`: a run stuck for hours must not block its démarche for ever.
    """

    def __init__(
        self,
        demarche_id: int,
        owner: str,
        ttl: timedelta,
        *,
        interval: float | None = None,
        max_hold: timedelta = timedelta(hours=6),
    ) -> None:
        self.demarche_id = demarche_id
        self.owner = owner
        self.ttl = ttl
        self.interval = interval if interval is not None else ttl.total_seconds() / RENEWALS_PER_TTL
        self.max_hold = max_hold.total_seconds()
        self.lost = threading.Event()
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{demarche_id}", daemon=True)

    def __enter__(self) -> KeepAlive:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            while not self._stop.wait(self.interval):
                if time.monotonic() - started > self.max_hold:
                    logger.error(
                        "démarche %s: run still going after %d s, its lease is no longer renewed",
                        self.demarche_id,
                        self.max_hold,
                    )
                    return
                try:
                    renewed = renew(self.demarche_id, self.owner, self.ttl)
                except DatabaseError:
                    logger.warning("démarche %s: lease renewal failed, retried", self.demarche_id)
                    continue
                if not renewed:
                    self.lost.set()
                    logger.warning("démarche %s: lease lost during the run", self.demarche_id)
                    return
                self.renewals += 1
        finally:
            connection.close()  # this thread's own connection
