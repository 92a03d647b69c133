"""The throw-away install the benchmarks run in, the child processes they start, and what
they share (errors, CPU meters, number formats)."""

from __future__ import annotations

import json
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tools.bench import harness

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}


Progress = Callable[[str], None]


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed (the message says which, with the child's output)."""


def quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class Install:
    workdir: Path
    env: dict[str, str]
    database: str  # "SQLite" or "PostgreSQL"


@contextmanager
def throwaway_install(database_url: str | None = None, **extra: str) -> Iterator[Install]:
    """A migrated install in a temporary folder; PostgreSQL: a dedicated database, dropped.
    `extra`: settings of its environment (ANTIVIRUS…)."""
    with tempfile.TemporaryDirectory(prefix="hubee-bench-") as tmp:
        workdir = Path(tmp)
        if database_url:
            with dedicated_postgres_database(database_url) as url:
                yield migrated(workdir, url, "PostgreSQL", extra)
        else:
            yield migrated(workdir, None, "SQLite", extra)


def migrated(
    workdir: Path, database_url: str | None, database: str, extra: dict[str, str] | None = None
) -> Install:
    env = harness.environment(workdir, database_url, **(extra or {}))
    migrated = harness.manage(env, "migrate", "--noinput")
    if migrated.returncode != 0:
        raise BenchmarkError(f"migrate a échoué :\n{migrated.stderr}")
    return Install(workdir, env, database)


@contextmanager
def dedicated_postgres_database(server_url: str) -> Iterator[str]:
    """Create `hubee_bench_<random>` on the server of `server_url`, yield its URL, drop it.

    The database named in `server_url` is only used to connect: its contents are never read
    nor changed.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(server_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise BenchmarkError(
            f"--database-url attend une URL PostgreSQL (postgres://…), pas « {parts.scheme} » : "
            "sans elle, le banc utilise un fichier SQLite."
        )
    name = f"hubee_bench_{secrets.token_hex(4)}"
    admin_url = urlunsplit(("postgresql", *parts[1:]))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run_child(install: Install, module: str, call: str, timeout: int = 3600) -> Any:
    """Run `tools.bench.<module>.<call>` in a child process; its last stdout line, as JSON."""
    try:
        result = harness.python(
            install.env, f"from tools.bench import {module}\n{module}.{call}", timeout=timeout
        )
    except RuntimeError as exc:
        raise BenchmarkError(f"{call.split('(')[0]} a échoué :\n{exc}") from exc
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def run_sync(install: Install, concurrency: int) -> subprocess.CompletedProcess:
    # Both the option and the setting, so that k is the one measured whichever the command
    # reads (run_all passes the option on since issue 12; earlier versions read the setting).
    env = {**install.env, "HUBEE_SYNC_CONCURRENCY": str(concurrency)}
    result = harness.manage(env, "hubee_sync", "--concurrency", str(concurrency))
    if result.returncode != 0:
        raise BenchmarkError(
            f"hubee_sync a échoué (code {result.returncode}) :\n{result.stdout}{result.stderr}"
        )
    return result


def in_process_seconds(output: str) -> float | None:
    match = re.search(r"Terminé en ([\d.]+) s", output)
    return float(match.group(1)) if match else None


class Meter:
    """Wall time, 1-minute load, and CPU of the client and of the sandbox server over a block.

    The client is either the waited-for children (hubee_sync) or this process (the replay).
    """

    def __init__(self, server_pid: int, *, children: bool) -> None:
        self.server_pid = server_pid
        self.who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
        self.seconds = 0.0
        self.load = 0.0
        self.client_cpu: float | None = None
        self.server_cpu: float | None = None

    def _client(self) -> float:
        usage = resource.getrusage(self.who)
        return usage.ru_utime + usage.ru_stime

    def __enter__(self) -> Meter:
        self.load = os.getloadavg()[0]
        self._server_start = process_cpu_seconds(self.server_pid)
        self._client_start = self._client()
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self._started
        self.client_cpu = self._client() - self._client_start
        server_end = process_cpu_seconds(self.server_pid)
        if self._server_start is not None and server_end is not None:
            self.server_cpu = server_end - self._server_start


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process (Linux /proc), or None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def per(cpu_seconds: float | None, count: int) -> str:
    if cpu_seconds is None or not count:
        return "?"
    return fmt_number(cpu_seconds * 1000 / count, 1)


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def fmt_number(value: float, decimals: int = 2) -> str:
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
