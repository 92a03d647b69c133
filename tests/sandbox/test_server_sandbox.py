"""`hubee_sandbox_server` as a real process: keep-alive connections and dropped connections."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from hubee_portal.hubee import HubEEClient, HubEEConfig
from hubee_portal.sandbox.server import SandboxRequestHandler, make_server

PYTHON = sys.executable
MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
CLIENT_ID = "server-client"
SECRET = "server-secret"
CONTENT = bytes(range(256)) * 1000

SEED = f"""
from hubee_portal.sandbox import services
sub = services.create_subscription("EtatCivil", {CLIENT_ID!r}, {SECRET!r})
case = services.deposit_case(sub, files=[("a.bin", "documents", "application/octet-stream",
                                          bytes(range(256)) * 1000)])
print(case.id, case.attachments.get().id)
"""
LOG = """
import json
from hubee_portal.sandbox.models import CallLog
print(json.dumps(list(CallLog.objects.order_by("id").values_list(
    "method", "path", "status_code", "new_connection", "connection_id"))))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("sandbox-server")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hubee_portal.settings",
        "ENV_FILE": str(folder / "absent.env"),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DATA_DIR": str(folder / "data"),
        "DEBUG": "true",
        "HUBEE_SANDBOX": "true",
        "PYTHONUNBUFFERED": "1",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [PYTHON, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    case_id, attachment_id = manage("shell", "-c", SEED).split()[-2:]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [PYTHON, MANAGE, "hubee_sandbox_server", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # "... http://127.0.0.1:PORT/sandbox/"
            assert "http://127.0.0.1:" in line, (folder / "server.log").read_text()
            yield {
                "url": line.split()[-1].rstrip("/"),
                "case_id": case_id,
                "attachment_id": attachment_id,
                "manage": manage,
                "log": lambda: json.loads(manage("shell", "-c", LOG).splitlines()[-1]),
            }
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def make_client(server: dict[str, Any]) -> Iterator[Callable[[], HubEEClient]]:
    clients: list[HubEEClient] = []

    def make() -> HubEEClient:
        # Its own requests.Session with a real connection pool, as in production.
        client = HubEEClient(
            HubEEConfig(
                token_url=f"{server['url']}/oauth2/token",
                api_url=server["url"],
                client_id=CLIENT_ID,
                client_secret=SECRET,
                read_timeout=10,  # a hang would fail the test instead of stalling it
                backoff_base=0,
            )
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _since(server: dict[str, Any], start: int) -> list[list[Any]]:
    return server["log"]()[start:]


def test_keep_alive_pays_one_new_connection_per_session(
    server: dict[str, Any], make_client: Callable[[], HubEEClient]
) -> None:
    start = len(server["log"]())

    first = make_client()
    first.list_notifications(25)  # token + list
    first.list_notifications(25)
    second = make_client()
    second.list_notifications(25)

    rows = _since(server, start)
    assert [(method, path) for method, path, *_ in rows] == [
        ("POST", "/oauth2/token"),
        ("GET", "/teledossiers/v1/notifications"),
        ("GET", "/teledossiers/v1/notifications"),
        ("POST", "/oauth2/token"),
        ("GET", "/teledossiers/v1/notifications"),
    ]
    assert [row[3] for row in rows] == [True, False, False, True, False]
    assert len({row[4] for row in rows[:3]}) == 1
    assert rows[0][4] != rows[3][4]


def test_truncated_download_drops_the_connection_and_the_client_recovers(
    server: dict[str, Any], make_client: Callable[[], HubEEClient]
) -> None:
    server["manage"](
        "shell",
        "-c",
        "from hubee_portal.sandbox import services; services.set_faults(truncate_downloads=True)",
    )
    start = len(server["log"]())
    client = make_client()

    sink = io.BytesIO()
    started = time.monotonic()
    result = client.download_case_attachment(server["case_id"], server["attachment_id"], sink, None)

    # Well under the 10 s read timeout: the client saw the cut, it did not wait for it.
    assert time.monotonic() - started < 5
    assert sink.getvalue() == CONTENT
    assert result.digest_checked
    rows = _since(server, start)
    downloads = [row for row in rows if row[1].endswith("{attachmentId}")]
    assert len(downloads) == 2
    # The cut closed the first connection: the retry had to open a new one.
    assert downloads[1][3] is True
    assert downloads[0][4] != downloads[1][4]


def test_accepted_connections_send_without_waiting_for_acks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nagle's algorithm on a kept-alive connection delays each answer's body until the client
    # acknowledges its headers: TCP_NODELAY must be on every accepted socket.
    nodelay: list[int] = []
    handled = threading.Event()
    original = SandboxRequestHandler.handle

    def handle(self: SandboxRequestHandler) -> None:
        nodelay.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        handled.set()
        original(self)

    monkeypatch.setattr(SandboxRequestHandler, "handle", handle)
    server = make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Closed without a request: the handler reads EOF and never calls the app.
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10):
            pass
        assert handled.wait(10), "the server never accepted the connection"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert nodelay == [1]
