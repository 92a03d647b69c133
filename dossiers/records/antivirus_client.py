"""clamd over its UNIX socket: INSTREAM, the file sent in chunks (never whole in memory).

No client library: the protocol is four commands long, and the maintained ones are not in Debian.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
TIMEOUT = 120.0  # clamd's own MaxScanTime is 120 s by default


class ScannerUnavailable(OSError):
    """clamd cannot be reached, or answered something we do not understand."""


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "clean", "infected", "unscannable" (over clamd's limits)
    signature: str = ""


def scan_file(path: Path, socket_path: str, *, timeout: float = TIMEOUT) -> Verdict:
    """Stream `path` to clamd; raises ScannerUnavailable, or OSError when the file is unreadable."""
    with open(path, "rb") as handle:
        try:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(timeout)
            client.connect(socket_path)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd injoignable ({type(exc).__name__})") from exc
        with client:
            try:
                client.sendall(b"zINSTREAM\0")
                while chunk := handle.read(CHUNK):
                    client.sendall(struct.pack("!L", len(chunk)) + chunk)
                client.sendall(struct.pack("!L", 0))
            except OSError:
                pass  # over StreamMaxLength clamd answers then closes: read what it said
            try:
                answer = _read_answer(client)
            except OSError as exc:
                raise ScannerUnavailable(f"clamd sans réponse ({type(exc).__name__})") from exc
    return parse(answer)


def ping(socket_path: str, *, timeout: float = 5.0) -> bool:
    """Whether clamd answers (PING → PONG)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout)
            client.connect(socket_path)
            client.sendall(b"zPING\0")
            return _read_answer(client) == "PONG"
    except OSError:
        return False


def _read_answer(client: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\0") and len(data) < 4096:
        part = client.recv(4096)
        if not part:
            break
        data += part
    return data.rstrip(b"\0\n").decode("utf-8", "replace")


def parse(answer: str) -> Verdict:
    if answer == "stream: OK":
        return Verdict("clean")
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream: ").removesuffix(" FOUND").strip()
        # AlertExceedsMax: MaxFileSize, MaxScanSize… exceeded, so nothing was really checked.
        if signature.startswith("Heuristics.Limits.Exceeded"):
            return Verdict("unscannable", signature)
        return Verdict("infected", signature)
    if "size limit exceeded" in answer or "Exceeds Max" in answer:
        return Verdict("unscannable", "StreamMaxLength")
    raise ScannerUnavailable(f"réponse de clamd inattendue : {answer[:80]!r}")
