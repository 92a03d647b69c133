"""Fleet benchmark (issue 22): N démarches polled by the real schedule in real `qcluster`
processes, against the sandbox server in its own process with its own database, while a
deposit process drops télédossiers into random démarches.

Two dedicated PostgreSQL databases (the portal's and the sandbox's) are created on the server
of `database_url` and dropped at the end. The benchmark process watches everything once a
second (fleet_probe), measures over the steady window only (after the warm-up), stops the
deposits, lets the clusters drain for a bounded time, stops everything and counts, on the
sandbox's side, what every deposit became (fleet_child). The figures come back as a
FleetFigures (fleet_report), which the command formats and the tests read.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tools.bench import harness
from tools.bench.fleet_probe import (
    REDIS_QUEUE_KEY,
    Probe,
    claim_redis_database,
    read_deposits,
    syncing_in_group,
)
from tools.bench.fleet_report import FleetFigures, compute_figures
from tools.bench.install import (
    POSTGRES_SCHEMES,
    BenchmarkError,
    Install,
    Progress,
    dedicated_postgres_database,
    quiet,
    run_child,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
KILL_WAIT_SECONDS = 40
STOP_SECONDS = 20  # a cluster's clean stop (SIGTERM) before SIGKILL to its whole group


@dataclass(frozen=True)
class FleetSettings:
    demarches: int = 100
    minutes: float = 10.0
    warmup: float = 2.0
    clusters: int = 1
    broker: str = "redis"
    workers: int = 2
    deposits_per_minute: float | None = None  # default: N/50, at least 1
    latency_ms: int = 20
    idle_after: int = 0  # HUBEE_IDLE_AFTER_MINUTES (0: adaptive polling off)
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    conn_max_age: int | None = None  # CONN_MAX_AGE of the clusters (None: the setting's own)
    drain_seconds: int = 180
    # SIGKILL to the first cluster's whole process group this many seconds after the start,
    # at the first moment after it when it holds a démarche's lease (KILL_WAIT_SECONDS at most).
    kill_cluster_at: float | None = None
    seed: int = 22

    def __post_init__(self) -> None:
        if self.demarches < 1 or self.clusters < 1 or self.workers < 1:
            raise ValueError("--demarches, --clusters et --workers valent au moins 1.")
        if self.minutes <= 0 or self.warmup < 0 or self.latency_ms < 0 or self.idle_after < 0:
            raise ValueError(
                "--minutes doit être positif ; --warmup, --latency-ms et "
                "--idle-after ne peuvent pas être négatifs."
            )
        if self.broker not in ("redis", "orm"):
            raise ValueError("--broker vaut « redis » ou « orm ».")
        if self.deposits_per_minute is not None and self.deposits_per_minute <= 0:
            raise ValueError("--deposits-per-minute doit être positif.")
        if urlsplit(self.database_url).scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "Le banc de flotte exige PostgreSQL (--database-url postgres://…) : SQLite "
                "n'admet qu'un écrivain à la fois et ne représente pas une grande installation."
            )

    @property
    def rate(self) -> float:
        if self.deposits_per_minute is not None:
            return self.deposits_per_minute
        return max(1.0, self.demarches / 50)

    @property
    def short(self) -> bool:
        """« Essai court »: less than the issue's 10-minute window after a 2-minute warm-up."""
        return self.minutes < 10 or self.warmup < 2


def run_fleet(settings: FleetSettings, progress: Progress = quiet) -> FleetFigures:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hubee-flotte-")))
        portal_url = stack.enter_context(dedicated_postgres_database(settings.database_url))
        sandbox_url = stack.enter_context(dedicated_postgres_database(settings.database_url))
        redis_url = None
        if settings.broker == "redis":
            redis_url, claim = claim_redis_database(settings.redis_url)
            stack.callback(_release_redis, claim)
            claim.delete(REDIS_QUEUE_KEY)  # a queue left by another run is never read
        portal, sandbox = _installs(settings, tmp, portal_url, sandbox_url, redis_url)
        progress(
            f"Bases {_name(portal_url)} (portail) et {_name(sandbox_url)} (bac à sable) "
            f"dans {tmp} ; migrations…"
        )
        with ThreadPoolExecutor(2) as pool:
            migrated = list(
                pool.map(lambda i: harness.manage(i.env, "migrate", "--noinput"), (portal, sandbox))
            )
        for result in migrated:
            if result.returncode != 0:
                raise BenchmarkError(f"migrate a échoué :\n{result.stderr}")
        server = stack.enter_context(harness.SandboxServer(sandbox.env))
        progress(f"{settings.demarches} démarches, bac à sable sur {server.url}")
        run_child(
            sandbox, "fleet_child", f"sandbox_setup({settings.demarches}, {settings.latency_ms})"
        )
        run_child(
            portal,
            "fleet_child",
            f"portal_setup({server.url!r}, {settings.demarches}, {str(tmp / 'telechargements')!r})",
        )
        processes: list[subprocess.Popen] = []
        stack.callback(_kill_all, processes)
        clusters = [
            _spawn(portal.env, tmp / f"qcluster-{n}.log", "manage.py", "qcluster")
            for n in range(settings.clusters)
        ]
        processes += clusters
        deposit_log, stop_file = tmp / "depots.jsonl", tmp / "arret-des-depots"
        deposit_call = (
            f"sandbox_deposits({settings.demarches}, {settings.rate}, {settings.seed}, "
            f"{str(deposit_log)!r}, {str(stop_file)!r})"
        )
        depositor = _spawn(
            sandbox.env,
            tmp / "depots.log",
            "-c",
            f"import django\ndjango.setup()\nfrom tools.bench import fleet_child\n"
            f"fleet_child.{deposit_call}",
        )
        processes.append(depositor)
        probe = Probe(
            portal_url.replace("postgres://", "postgresql://", 1),
            _name(portal_url),
            [c.pid for c in clusters],
            server.process.pid,
            redis_url,
        )
        probe.start()
        started = time.time()
        window = (
            started + settings.warmup * 60,
            started + (settings.warmup + settings.minutes) * 60,
        )
        killed_at = _run_until(window[1], started, settings, clusters, depositor, probe, progress)
        stop_file.touch()
        _wait(depositor, 60, "le processus de dépôt")
        deposits = read_deposits(deposit_log)
        # With adaptive polling an idle démarche waits up to 5 minutes for its next poll: the
        # drain gives it that long, or its deposits would count as missing.
        drain = settings.drain_seconds + (5 * 60 if settings.idle_after else 0)
        progress(f"{len(deposits)} dépôt(s) ; vidange (au plus {drain} s)…")
        drained = _drain(probe, sandbox_url, deposits, drain)
        watch = probe.stop()
        cluster_logs = [_stop_cluster(c, tmp / f"qcluster-{n}.log") for n, c in enumerate(clusters)]
        if depositor.returncode != 0:
            raise BenchmarkError(f"le processus de dépôt a échoué :\n{_tail(tmp / 'depots.log')}")
        badly = [
            n + 1
            for n, c in enumerate(clusters)
            if c.returncode not in (0, -signal.SIGTERM) and not (n == 0 and killed_at)
        ]
        progress("Vérifications (côté bac à sable)…")
        dump = tmp / "portail.json"
        dump.write_text(json.dumps(run_child(portal, "fleet_child", "portal_dossiers()")))
        correctness = run_child(sandbox, "fleet_child", f"sandbox_correctness({str(dump)!r})")
        calls = run_child(sandbox, "fleet_child", f"sandbox_calls({window[0]}, {window[1]})")
        return compute_figures(
            settings=settings,
            window=window,
            watch=watch,
            deposits=deposits,
            calls=calls,
            correctness=correctness,
            drained=drained,
            killed_at=killed_at,
            stopped_badly=badly,
            cluster_logs=cluster_logs,
            load=os.getloadavg()[0],
        )


def _installs(
    settings: FleetSettings, tmp: Path, portal_url: str, sandbox_url: str, redis_url: str | None
) -> tuple[Install, Install]:
    extra = {
        "Q_WORKERS": str(settings.workers),
        # Empty: the ORM broker, even when the benchmark's own environment names a Redis.
        "REDIS_URL": redis_url or "",
        "HUBEE_IDLE_AFTER_MINUTES": str(settings.idle_after),
    }
    if settings.conn_max_age is not None:
        extra["CONN_MAX_AGE"] = str(settings.conn_max_age)
    portal_env = harness.environment(tmp / "portail", portal_url, **extra)
    # Contract validation off: the sandbox answers like HubEE without checking each call.
    # CONN_MAX_AGE=0: a connection kept per server thread would be one per kept-alive HubEE
    # client, beyond PostgreSQL's max_connections at a few hundred démarches.
    sandbox_env = harness.environment(
        tmp / "bac-a-sable", sandbox_url, HUBEE_SANDBOX_OPENAPI="", CONN_MAX_AGE="0"
    )
    sandbox_env["REDIS_URL"] = ""
    return (
        Install(tmp / "portail", portal_env, "PostgreSQL"),
        Install(tmp / "bac-a-sable", sandbox_env, "PostgreSQL"),
    )


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Our interpreter in its own process group, its output in `log` (never a pipe that
    could fill up and block it)."""
    with open(log, "w") as out:
        return subprocess.Popen(  # noqa: S603  (our own interpreter, manage.py, our code)
            [sys.executable, *args],
            cwd=harness.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _run_until(
    end: float,
    started: float,
    settings: FleetSettings,
    clusters: list[subprocess.Popen],
    depositor: subprocess.Popen,
    probe: Probe,
    progress: Progress,
) -> float | None:
    """Sleep until `end`, with a line a minute; SIGKILL the first cluster when asked."""
    killed_at = None
    next_line = started + 60
    while (now := time.time()) < end:
        if depositor.poll() is not None:
            raise BenchmarkError(
                f"le processus de dépôt s'est arrêté (code {depositor.returncode})"
            )
        kill_at = settings.kill_cluster_at
        if kill_at is not None and killed_at is None and now - started >= kill_at:
            # In the middle of a sync when possible (one of its démarche leases held).
            busy = syncing_in_group(probe.db, clusters[0].pid)
            if busy or now - started >= kill_at + KILL_WAIT_SECONDS:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(clusters[0].pid, signal.SIGKILL)
                killed_at = now - started
                progress(
                    f"  cluster 1 tué (SIGKILL à tout son groupe) à {killed_at:.0f} s"
                    + (", pendant une synchronisation" if busy else "")
                )
        if now >= next_line:
            queue = probe.watch.samples[-1].queue if probe.watch.samples else "?"
            progress(
                f"  {(now - started) / 60:.0f} min : {len(probe.watch.seen)} dossier(s) "
                f"vus, file {queue}"
            )
            next_line += 60
        time.sleep(0.1 if kill_at is not None and killed_at is None else 0.5)
    return killed_at


def _drain(probe: Probe, sandbox_url: str, deposits: list[dict], limit: int) -> bool:
    """Until every deposit is a dossier, no SI notification waits on the sandbox and no push
    waits in the portal — or `limit` seconds."""
    import psycopg

    wanted = {d["case"] for d in deposits}
    deadline = time.time() + limit
    url = sandbox_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as sandbox_db:
        while time.time() < deadline:
            if wanted <= set(probe.watch.seen):
                pending = sandbox_db.execute(
                    "SELECT count(*) FROM sandbox_notification WHERE recipient_type = 'SI'"
                ).fetchone()[0]
                unsent = probe.db.execute(
                    "SELECT count(*) FROM dossiers_outgoingevent WHERE state <> 'sent'"
                ).fetchone()[0]
                if pending == 0 and unsent == 0:
                    return True
            time.sleep(1)
    return False


def _stop_cluster(cluster: subprocess.Popen, log: Path) -> str:
    """SIGTERM to the sentinel (a clean stop), then SIGKILL to the whole group: its workers
    may outlive it. Returns the end of its log."""
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait(timeout=30)
    return _tail(log)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _wait(process: subprocess.Popen, timeout: int, what: str) -> None:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"{what} ne s'arrête pas") from exc


def _kill_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)


def _release_redis(client) -> None:
    client.flushdb()
    client.close()
