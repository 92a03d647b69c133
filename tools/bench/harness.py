"""Run the portal and its sandbox in separate processes on a throw-away file database.

Used by the benchmark command and by the tests that start other processes (never the in-memory
test database: other processes must see the same data).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_INHERITED_OUT = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "ENCRYPTION_KEY"}


def environment(workdir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment of a development install living in `workdir` (SQLite file by default)."""
    env = {key: value for key, value in os.environ.items() if key not in _INHERITED_OUT}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hubee_portal.settings",
            "DATA_DIR": str(workdir / "data"),
            "ENV_FILE": str(workdir / "absent.env"),
            "DEBUG": "true",
            "HUBEE_SANDBOX": "true",
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'portal.sqlite3'}",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def production_environment(
    workdir: Path, database_url: str | None = None, **extra: str
) -> dict[str, str]:
    """A production install (DEBUG, sandbox and TLS redirect off, clamd as the antivirus) that
    answers Django's test client, for the page benchmarks."""
    return environment(
        workdir,
        database_url=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ENCRYPTION_KEY="ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        HUBEE_SANDBOX="false",
        ANTIVIRUS="clamd",
        **extra,
    )


def manage(env: dict[str, str], *args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603  (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def migrate_and_collect(env: dict[str, str]) -> None:
    """Migrate, then collect the static files, as on a production install (the pages link the
    collected style sheet); raise with the command's stderr on failure."""
    for args in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(env, *args)
        if result.returncode != 0:
            raise RuntimeError(result.stderr)


def python(env: dict[str, str], code: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a child process; raise with its stderr on failure."""
    result = subprocess.run(  # noqa: S603  (our own interpreter, code from our callers)
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result


class SandboxServer:
    """`manage.py hubee_sandbox_server` on a free port, in its own process group."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "hubee_sandbox_server", "--port", "0"],
            cwd=ROOT,
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

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process.stdout.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
