"""What a server tells the sandbox about the TCP connection a request came on.

`hubee_sandbox_server` and the in-process transport put these keys in the WSGI environ; plain
runserver does not, so there every request counts as made on a known connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NEW_CONNECTION_KEY = "sandbox.new_connection"
CONNECTION_ID_KEY = "sandbox.connection_id"
CONNECTION_KEY = "sandbox.connection"


@dataclass
class ConnectionInfo:
    connection_id: str
    new: bool
    # Set by a view (truncated download): the server must drop the connection after the answer,
    # or a keep-alive client would wait for the missing bytes until its read timeout.
    close_after_response: bool = False

    def environ(self) -> dict[str, Any]:
        return {
            NEW_CONNECTION_KEY: self.new,
            CONNECTION_ID_KEY: self.connection_id,
            CONNECTION_KEY: self,
        }


def from_environ(environ: dict[str, Any]) -> ConnectionInfo:
    info = environ.get(CONNECTION_KEY)
    if isinstance(info, ConnectionInfo):
        return info
    return ConnectionInfo(
        connection_id=str(environ.get(CONNECTION_ID_KEY, "")),
        new=bool(environ.get(NEW_CONNECTION_KEY, False)),
    )
