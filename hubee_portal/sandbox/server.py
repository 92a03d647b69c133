"""A threaded HTTP/1.1 keep-alive server for the whole Django app, that tells the sandbox
which requests open a new TCP connection (for the per-connection latency and the call log)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)

from .connection import ConnectionInfo

_connection_ids = itertools.count(1)
_ids_lock = threading.Lock()


class SandboxRequestHandler(WSGIRequestHandler):
    """One instance per TCP connection; marks its first request as a new connection."""

    # TCP_NODELAY: the WSGI handler writes headers and body in separate send()s; with Nagle,
    # a kept-alive connection holds the body until the client's delayed ACK (up to 40 ms).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with _ids_lock:
            self.sandbox_connection_id = f"tcp-{next(_connection_ids)}"
        self.sandbox_requests = 0
        self.sandbox_current: ConnectionInfo | None = None

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        info = ConnectionInfo(
            connection_id=self.sandbox_connection_id, new=self.sandbox_requests == 0
        )
        self.sandbox_requests += 1
        self.sandbox_current = info
        environ.update(info.environ())
        return environ

    def handle_one_request(self) -> None:
        self.sandbox_current = None
        super().handle_one_request()
        if self.sandbox_current is not None and self.sandbox_current.close_after_response:
            # A truncated answer: drop the connection so the client sees the cut at once.
            self.close_connection = True


class SandboxServer(ThreadedWSGIServer):
    daemon_threads = True


def make_server(host: str = "127.0.0.1", port: int = 8765) -> SandboxServer:
    """Bind (port 0 picks a free port: see `server.server_port`) and load the app."""
    server = SandboxServer((host, port), SandboxRequestHandler, ipv6=":" in host)
    server.set_app(get_internal_wsgi_application())
    return server
