"""Reliability tests: real processes (sandbox server, hubee_sync, qcluster) on a throw-away
install — an SQLite file or a dedicated PostgreSQL database, never the test database.

Slow tests run once in CI, in the PostgreSQL pass: they are skipped unless DATABASE_URL points
to PostgreSQL or RUN_SLOW=1. A test that needs PostgreSQL or Redis fails (never skips) when
CI=true and the service cannot be reached.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tools.bench import harness

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
CLAIM_KEY = "hubee-reliability-claim"


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql", "postgis"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def run_slow() -> bool:
    return _is_postgres(os.environ.get("DATABASE_URL", "")) or os.environ.get("RUN_SLOW") == "1"


def pytest_runtest_setup(item):
    if item.get_closest_marker("slow") and not run_slow():
        pytest.skip(
            "test lent : lancé une fois, dans la passe PostgreSQL de la CI "
            "(DATABASE_URL=postgres://…) ou avec RUN_SLOW=1"
        )


def unavailable(service: str, error: Exception) -> None:
    message = f"{service} injoignable ({error})"
    if _in_ci():
        pytest.fail(f"{message} : en CI, ce service est obligatoire.")
    pytest.skip(message)


# -- PostgreSQL --------------------------------------------------------------------------------


def _postgres_admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if _is_postgres(url) else DEFAULT_POSTGRES_URL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgres", path=f"/{name}"))


def _psycopg_connect(url: str):
    import psycopg

    return psycopg.connect(
        _with_database(url, "postgres").replace("postgres://", "postgresql://", 1),
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture
def postgres_url():
    """A dedicated, empty PostgreSQL database (`hubee_rel_<random>`), dropped afterwards."""
    admin = _postgres_admin_url()
    name = f"hubee_rel_{uuid.uuid4().hex[:12]}"
    try:
        with _psycopg_connect(admin) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # psycopg.OperationalError and friends
        unavailable("PostgreSQL", exc)
    try:
        yield _with_database(admin, name)
    finally:
        with _psycopg_connect(admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request, tmp_path):
    """The backend of this pass: PostgreSQL when DATABASE_URL says so, an SQLite file
    otherwise (overridden by indirect parametrisation with "sqlite" or "postgres")."""
    backend = getattr(request, "param", None)
    if backend is None:
        backend = "postgres" if _is_postgres(os.environ.get("DATABASE_URL", "")) else "sqlite"
    if backend == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'portal.sqlite3'}"


# -- Redis -------------------------------------------------------------------------------------


@pytest.fixture
def redis_url():
    """An empty Redis database number claimed for this test, flushed afterwards."""
    import redis

    base = os.environ.get("RELIABILITY_REDIS_URL", DEFAULT_REDIS_URL).rstrip("/")
    token = uuid.uuid4().hex
    claimed = None
    try:
        for number in range(15, 0, -1):
            client = redis.Redis.from_url(f"{base}/{number}", socket_connect_timeout=5)
            # Only an empty database, and only one test at a time (the claim expires).
            if client.dbsize() == 0 and client.set(CLAIM_KEY, token, nx=True, ex=900):
                claimed = client, number
                break
            client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    if claimed is None:
        pytest.fail("Redis : aucune base vide disponible (1 à 15) pour ce test.")
    client, number = claimed
    try:
        yield f"{base}/{number}"
    finally:
        client.flushdb()
        client.close()


# -- a throw-away install ----------------------------------------------------------------------


class PatchedSandboxServer(harness.SandboxServer):
    """The sandbox server with `code` run first in its process (to slow a route down…)."""

    def __init__(self, env: dict[str, str], code: str):
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and code)
            [
                sys.executable,
                "-c",
                "import django\ndjango.setup()\n"
                f"{code}\n"
                "from django.core.management import call_command\n"
                "call_command('hubee_sandbox_server', '--port', '0')",
            ],
            cwd=harness.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        line = self.process.stdout.readline()
        match = re.search(r"http://[^/]+", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the sandbox server did not start: {line!r}")
        self.url = match.group(0)


class Install:
    """A development install in `workdir` on `database_url`, its sandbox served by another
    process. Everything runs in child processes (harness)."""

    def __init__(self, workdir: Path, database_url: str, **extra: str):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = harness.environment(workdir, database_url=database_url, **extra)
        self.server: harness.SandboxServer | None = None
        self.processes: list[subprocess.Popen] = []

    def start(self, server_patch: str | None = None) -> Install:
        migrated = harness.manage(self.env, "migrate", "--noinput", timeout=300)
        assert migrated.returncode == 0, migrated.stderr
        if server_patch:
            self.server = PatchedSandboxServer(self.env, server_patch)
        else:
            self.server = harness.SandboxServer(self.env)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def script(self, code: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return harness.python(
            self.env, f"from tests.reliability import scenario\n{code}", timeout=timeout
        )

    def json(self, code: str, timeout: int = 600) -> dict:
        return json.loads(self.script(code, timeout).stdout.strip().splitlines()[-1])

    def report(self, expected_pushes: list[str]) -> dict:
        return self.json(f"scenario.report({expected_pushes!r})")

    def sync(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return harness.manage(self.env, "hubee_sync", *args, timeout=timeout)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """`manage.py <args>` in the background, in its own process group."""
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and manage.py)
            [sys.executable, "manage.py", *args],
            cwd=harness.ROOT,
            env=env or self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            # The whole group: a qcluster's workers may outlive their sentinel.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            if process.stdout:
                process.stdout.close()
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def install(tmp_path, database_url):
    """Factory: `install(server_patch=None, **extra_env)` → a migrated install with its
    sandbox server running (`server_patch`: Python code run first in the server's process)."""
    installs: list[Install] = []

    def make(server_patch: str | None = None, **extra: str) -> Install:
        made = Install(tmp_path / f"install-{len(installs)}", database_url, **extra)
        installs.append(made)
        return made.start(server_patch)

    yield make
    for made in installs:
        made.stop()
