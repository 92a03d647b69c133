"""A `requests` transport that sends requests to this Django app in-process (for tests).

    session = requests.Session()
    session.mount("http://sandbox.test/", SandboxAdapter())
    client = HubEEClient(
        HubEEConfig(
            token_url="http://sandbox.test/sandbox/oauth2/token",
            api_url="http://sandbox.test/sandbox",
            client_id=..., client_secret=...,
        ),
        session=session,
    )

The view runs in the caller's thread (same database connection, so inside a test's
transaction). Bodies stream both ways: an upload is read from its file object, a download is
read as the client iterates. Like a connection pool, the adapter reuses an idle "connection"
for the next request and opens a new one when none is idle (the first request of a session,
or concurrent requests); the call log sees `new_connection` accordingly. Timeouts, TLS and
proxies do not apply.
"""

from __future__ import annotations

import io
import itertools
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

from .connection import ConnectionInfo

_adapter_ids = itertools.count(1)

# Like Django's test client: the app must not close the caller's database connection at the
# end of a request (that would break a test's transaction). Counted, as requests may overlap.
_mute_lock = threading.Lock()
_mute_depth = 0


def _mute_connection_closing() -> None:
    global _mute_depth
    with _mute_lock:
        if _mute_depth == 0:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        _mute_depth += 1


def _unmute_connection_closing() -> None:
    global _mute_depth
    with _mute_lock:
        _mute_depth -= 1
        if _mute_depth == 0:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


class _WSGIBody(io.RawIOBase):
    """The WSGI response iterable as a readable stream; `on_close` runs once, at EOF or close."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        super().__init__()
        self._result = result
        self._chunks: Iterator[bytes] | None = iter(result)
        self._pending = memoryview(b"")
        self._on_close: Callable[[], None] | None = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._chunks is None:
                return 0
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                self._finish()
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _finish(self) -> None:
        # End of the answer: free the "connection" as a real pool would.
        self._chunks = None
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            try:
                close = getattr(self._result, "close", None)
                if close is not None:
                    close()  # fires request_finished, closes the file
            finally:
                on_close()

    def close(self) -> None:
        if not self.closed:
            self._finish()
        super().close()


def _spool(chunks: Iterable[bytes | str]) -> IO[bytes]:
    spooled = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - app reads it
    for chunk in chunks:
        spooled.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    spooled.seek(0)
    return spooled


def _body_stream(body: Any) -> tuple[IO[bytes], int]:
    if body is None:
        return io.BytesIO(), 0
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return io.BytesIO(body), len(body)
    if hasattr(body, "read"):
        start = body.tell()
        body.seek(0, io.SEEK_END)
        length = body.tell() - start
        body.seek(start)
        return body, length
    spooled = _spool(body)  # a generator (chunked upload)
    spooled.seek(0, io.SEEK_END)
    length = spooled.tell()
    spooled.seek(0)
    return spooled, length


class SandboxAdapter(BaseAdapter):
    """Send each request to a Django WSGI handler in-process.

    `host` is the Host header the app sees (it must be in ALLOWED_HOSTS; Django's test set-up
    adds "testserver"); None keeps the URL's host.
    """

    def __init__(self, host: str | None = "testserver", app: Any = None) -> None:
        super().__init__()
        self._app = app if app is not None else WSGIHandler()
        self._host = host
        self._id = next(_adapter_ids)
        self._lock = threading.Lock()
        self._idle: list[str] = []
        self._opened = 0

    @property
    def connections_opened(self) -> int:
        return self._opened

    def _acquire(self) -> ConnectionInfo:
        with self._lock:
            if self._idle:
                return ConnectionInfo(connection_id=self._idle.pop(), new=False)
            self._opened += 1
            return ConnectionInfo(connection_id=f"inproc-{self._id}-{self._opened}", new=True)

    def _release(self, info: ConnectionInfo) -> None:
        if info.close_after_response:
            return  # dropped: the next request opens a new one
        with self._lock:
            self._idle.append(info.connection_id)

    def close(self) -> None:
        with self._lock:
            self._idle.clear()

    def _environ(self, request: requests.PreparedRequest, info: ConnectionInfo) -> dict[str, Any]:
        url = urlsplit(request.url or "")
        stream, length = _body_stream(request.body)
        host = self._host or url.netloc
        server_name, _, port = host.partition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": (request.method or "GET").upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(url.path or "/").decode("iso-8859-1"),
            "QUERY_STRING": url.query,
            "SERVER_NAME": server_name,
            "SERVER_PORT": port or ("443" if url.scheme == "https" else "80"),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(length) if length else "",
            "HTTP_HOST": host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": stream,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            **info.environ(),
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if "_" in name:
                continue  # servers drop these (header spoofing), so do we
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH" and key != "HOST":
                environ[f"HTTP_{key}"] = value
        return environ

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        info = self._acquire()
        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started["status"] = status
            started["headers"] = headers
            return lambda data: None  # Django never uses write()

        def finished() -> None:
            try:
                self._release(info)
            finally:
                _unmute_connection_closing()

        _mute_connection_closing()
        try:
            result = self._app(self._environ(request, info), start_response)
        except BaseException:
            finished()
            raise
        code, _, reason = started["status"].partition(" ")
        body = _WSGIBody(result, finished)
        raw = HTTPResponse(
            body=body,
            headers=HTTPHeaderDict(started["headers"]),
            status=int(code),
            reason=reason,
            preload_content=False,
            decode_content=False,
            enforce_content_length=True,  # a short body raises, as on a socket
            request_method=request.method,
            request_url=request.url,
        )
        return self._build_response(request, raw)

    def _build_response(
        self, request: requests.PreparedRequest, raw: HTTPResponse
    ) -> requests.Response:
        # What HTTPAdapter.build_response does.
        response = requests.Response()
        response.status_code = raw.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = raw.reason or ""
        url = request.url or ""
        response.url = url.decode("utf-8") if isinstance(url, bytes) else url
        extract_cookies_to_jar(response.cookies, request, raw)
        response.request = request
        response.connection = self
        return response


def sandbox_session(
    base_url: str = "http://sandbox.test/", **adapter_options: Any
) -> requests.Session:
    """A `requests.Session` whose requests under `base_url` go to the sandbox in-process."""
    session = requests.Session()
    session.mount(base_url, SandboxAdapter(**adapter_options))
    return session
