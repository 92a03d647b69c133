"""Fleet benchmark (issue 22): what the benchmark process watches every second.

CPU comes from /proc/<pid>/stat, summed per process as deltas between two samples, so that a
worker django-q recycles is counted up to its last sample (a process is keyed by pid and start
time: a reused pid is a new process). PostgreSQL is counted whole — the postmaster's CPU and
its children's, the ones it reaped included (cutime/cstime) — and each backend pg_stat_activity
names, sampled ten times a second, is attributed to its database; a backend that lives less
than that stays unattributed.

The watcher reads new dossiers (by HubEE case id) and django-q's task rows (saved on
completion: successful ones are pruned beyond save_limit, one for each new one, so a task
row lives for at least the time 250 others take to finish — far more than a second here).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
REDIS_QUEUE_KEY = "django_q:hubee_portal:q"  # Q_CLUSTER name of hubee_portal.settings
CLAIM_KEY = "hubee-fleet-claim"
TICKS_PER_SAMPLE = 10  # PostgreSQL's backends ten times a second, the rest once


def _stat(pid: int) -> list[str] | None:
    """Fields after the command name: [0] state, [1] ppid, [2] pgrp, [11] utime, [12] stime,
    [13] cutime, [14] cstime, [19] starttime."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _precise_cpu(pid: int, fields: list[str]) -> float:
    """CPU seconds to the nanosecond (schedstat), not to the clock tick of stat (10 ms: a
    backend of a few milliseconds would read 0)."""
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _all_stats() -> dict[int, list[str]]:
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = fields
    return stats


class CpuTally:
    """Cumulative CPU seconds of a changing set of processes, from successive samples."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.last: dict[tuple[int, str], float] = {}
        self.started = False

    def sample(self, stats: dict[int, list[str]], pids: set[int]) -> None:
        current = {}
        for pid in pids:
            fields = stats.get(pid) or _stat(pid)
            if fields is None:
                continue
            key = (pid, fields[19])
            used = (int(fields[11]) + int(fields[12])) / CLK_TCK
            current[key] = used
            # A process first seen after the start was born since the last sample: all of it.
            base = self.last.get(key, used if not self.started else 0.0)
            self.seconds += used - base
        self.last = current
        self.started = True


class PostgresCpu:
    """All of PostgreSQL — the postmaster, its live children, and the children it reaped —
    and the part of it each database's backends used, sampled ten times a second: a
    backend that lived less than that (one per sandbox call, as the sandbox server closes
    its connection after each request) stays unattributed."""

    def __init__(self, postmaster: int, database: str, own_backend: int) -> None:
        self.postmaster = postmaster
        self.database = database
        self.own_backend = own_backend
        self.total = 0.0
        self.by_label = {"portal": 0.0, "other": 0.0, "probe": 0.0}
        self.children: dict[tuple[int, str], float] = {}
        self.labels: dict[tuple[int, str], str] = {}
        self.reaped_base: float | None = None

    @property
    def unattributed(self) -> float:
        return self.total - sum(self.by_label.values())

    def portal_backends(self) -> int:
        return sum(1 for label in self.labels.values() if label == "portal")

    def _label(self, pid: int, database: str | None) -> str:
        if pid == self.own_backend:
            return "probe"
        return "portal" if database == self.database else "other"

    def sample(self, activity: dict[int, str | None]) -> None:
        """`activity`: pid → database of every pg_stat_activity row (background processes
        included, with no database)."""
        own = _stat(self.postmaster)
        if own is None:
            return
        reaped = sum(int(own[i]) for i in (11, 12, 13, 14)) / CLK_TCK
        children = {}
        for pid, database in activity.items():
            fields = _stat(pid)
            if fields is None or fields[1] != str(self.postmaster):
                continue
            key = (pid, fields[19])
            children[key] = _precise_cpu(pid, fields)
            self.labels.setdefault(key, self._label(pid, database))
        if self.reaped_base is None:
            self.reaped_base = reaped
            self.children = children
            return
        self.total += reaped - self.reaped_base
        self.reaped_base = reaped
        for key, used in children.items():
            delta = used - self.children.get(key, 0.0)
            self.total += delta
            self.by_label[self.labels[key]] += delta
        # A child gone since: its whole life is now in the reaped figure; take back what was
        # counted of it (for one alive at the start, its CPU before the start was never
        # counted and is left out by the same subtraction). The rest of its life, after its
        # last sample, stays unattributed.
        for key, used in self.children.items():
            if key not in children:
                self.total -= used
        self.children = children


@dataclass
class Sample:
    at: float
    cluster_cpu: float
    portal_pg_cpu: float
    unattributed_pg_cpu: float
    server_pg_cpu: float
    sandbox_cpu: float | None
    connections: int
    queue: int
    cluster_cpu_each: tuple[float, ...] = ()  # one per cluster: how the work was shared


@dataclass
class Watch:
    samples: list[Sample] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)  # case id → first seen (epoch)
    tasks: dict[str, tuple[str, float]] = field(default_factory=dict)  # id → (func, stopped)
    portal_backends: int = 0
    errors: list[str] = field(default_factory=list)


class Probe(threading.Thread):
    """Samples everything once a second until stop(); its figures in `watch`."""

    def __init__(
        self,
        portal_url: str,
        database: str,
        clusters: list[int],
        sandbox_pid: int,
        redis_url: str | None,
    ) -> None:
        super().__init__(daemon=True, name="fleet-probe")
        import psycopg

        self.db = psycopg.connect(portal_url, autocommit=True, connect_timeout=10)
        self.database = database
        self.clusters = clusters  # process group ids, one per qcluster
        self.sandbox_pid = sandbox_pid
        self.redis = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url)
        self.own_backend = self.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        postmaster = _stat(self.own_backend)
        self.postgres = None
        if postmaster is not None:
            self.postgres = PostgresCpu(int(postmaster[1]), database, self.own_backend)
        self.cluster_cpu = CpuTally()
        self.cluster_cpu_each = [CpuTally() for _ in clusters]
        self.watch = Watch()
        self.activity: dict[int, str | None] = {}
        self._stopping = threading.Event()
        self._dossiers_since = datetime.now(UTC) - timedelta(minutes=5)
        self._tasks_since = datetime.now(UTC) - timedelta(minutes=5)

    def run(self) -> None:
        tick = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.sample_postgres()
                if tick % TICKS_PER_SAMPLE == 0:
                    self.sample()
            except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                self.watch.errors.append(repr(exc))
            tick += 1
            self._stopping.wait(max(0.0, 1 / TICKS_PER_SAMPLE - (time.monotonic() - started)))

    def sample_postgres(self) -> None:
        self.activity = dict(self.db.execute("SELECT pid, datname FROM pg_stat_activity"))
        if self.postgres is not None:
            self.postgres.sample(self.activity)

    def stop(self) -> Watch:
        self._stopping.set()
        self.join(timeout=30)
        self.db.close()
        if self.redis is not None:
            self.redis.close()
        return self.watch

    def sample(self) -> None:
        now = time.time()
        stats = _all_stats()
        groups = set(self.clusters)
        self.cluster_cpu.sample(stats, {pid for pid, f in stats.items() if int(f[2]) in groups})
        for group, tally in zip(self.clusters, self.cluster_cpu_each, strict=True):
            tally.sample(stats, {pid for pid, f in stats.items() if int(f[2]) == group})
        connections = sum(
            1
            for pid, name in self.activity.items()
            if name == self.database and pid != self.own_backend
        )
        sandbox = stats.get(self.sandbox_pid)
        if self.redis is not None:
            queue = self.redis.llen(REDIS_QUEUE_KEY)
        else:
            queue = self.db.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]
        self._read_dossiers(now)
        self._read_tasks()
        pg = self.postgres
        self.watch.portal_backends = pg.portal_backends() if pg else 0
        self.watch.samples.append(
            Sample(
                at=now,
                cluster_cpu=self.cluster_cpu.seconds,
                portal_pg_cpu=pg.by_label["portal"] if pg else 0.0,
                unattributed_pg_cpu=pg.unattributed if pg else 0.0,
                server_pg_cpu=pg.total if pg else 0.0,
                sandbox_cpu=(int(sandbox[11]) + int(sandbox[12])) / CLK_TCK if sandbox else None,
                connections=connections,
                queue=queue,
                cluster_cpu_each=tuple(tally.seconds for tally in self.cluster_cpu_each),
            )
        )

    def _read_dossiers(self, now: float) -> None:
        rows = self.db.execute(
            "SELECT hubee_case_id, received_at FROM dossiers_dossier WHERE received_at >= %s",
            (self._dossiers_since,),
        ).fetchall()
        for case_id, received_at in rows:
            self.watch.seen.setdefault(str(case_id), now)
            # received_at is set before the commit: keep a margin for long transactions.
            self._dossiers_since = max(self._dossiers_since, received_at - timedelta(minutes=5))

    def _read_tasks(self) -> None:
        rows = self.db.execute(
            "SELECT id, func, stopped FROM django_q_task WHERE stopped >= %s",
            (self._tasks_since,),
        ).fetchall()
        for task_id, func, stopped in rows:
            self.watch.tasks.setdefault(task_id, (func, stopped.timestamp()))
            self._tasks_since = max(self._tasks_since, stopped - timedelta(minutes=2))


def syncing_in_group(db, group: int) -> bool:
    """True when a démarche's lease is held by a process of the process group `group` (its
    owner string is `host:pid:…`, dossiers.exchange.lease): that cluster is syncing now."""
    try:
        owners = db.execute("SELECT owner FROM dossiers_demarchelease WHERE owner <> ''")
    except Exception:  # noqa: BLE001 - no such table: the caller falls back to a time
        return False
    for (owner,) in owners:
        pid = owner.split(":")[1] if owner.count(":") >= 1 else ""
        fields = _stat(int(pid)) if pid.isdigit() else None
        if fields is not None and int(fields[2]) == group:
            return True
    return False


def claim_redis_database(base_url: str) -> tuple[str, object]:
    """An empty Redis database number (15 down to 1), claimed for this run: the queue key
    is named after Q_CLUSTER's name, which the environment cannot change."""
    import redis

    token = os.urandom(8).hex()
    base = base_url.rstrip("/")
    if base.rsplit("/", 1)[-1].isdigit():
        base = base.rsplit("/", 1)[0]
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{base}/{number}", socket_connect_timeout=5)
        if client.dbsize() == 0 and client.set(CLAIM_KEY, token, nx=True, ex=6 * 3600):
            return f"{base}/{number}", client
        client.close()
    raise RuntimeError("Redis : aucune base vide (1 à 15) pour ce banc.")


def read_deposits(log: Path) -> list[dict]:
    import json

    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
