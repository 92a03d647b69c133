from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN_BODY = b'{"access_token": "jeton-du-listener", "expires_in": 3600}'


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Listener:
    """A real HTTP server on 127.0.0.1 that records every request (an attacker's, or a fake
    HubEE) and answers each with the same status, headers and body."""

    status: int = 200
    body: bytes = TOKEN_BODY
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    received: list[Received] = field(default_factory=list)

    def start(self) -> Listener:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                listener.received.append(
                    Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
                )
                self.send_response(listener.status)
                for name, value in listener.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(listener.body)))
                self.end_headers()
                self.wfile.write(listener.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "") -> str:
        return self.base + path


@pytest.fixture
def listener() -> Iterator[Callable[..., Listener]]:
    """Start as many listeners as a test needs; all are stopped at its end."""
    started: list[Listener] = []

    def start(**kwargs) -> Listener:
        started.append(Listener(**kwargs).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


@pytest.fixture
def rsps():
    """HTTP mocked with `responses` (ProConnect's token, userinfo and JWKS endpoints)."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def proconnect_agent():
    """An agent of the organisation whose SIRET the ProConnect tests' identity carries."""
    from tests.factories import OrganisationFactory, UserFactory

    OrganisationFactory()
    return UserFactory(username="agent.nice", email="agent.nice@mairie-nice.fr")
