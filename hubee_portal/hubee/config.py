"""Connection settings of one HubEE subscription, checked when built."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEADER_CHARS = 50
MIB = 1024 * 1024


@dataclass(frozen=True)
class HubEEConfig:
    """Connection settings of one HubEE subscription (one client id per démarche)."""

    token_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    editor_name: str = ""
    application_name: str = ""
    software_version: str = ""
    retries: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    proxies: dict[str, str] | None = field(default=None, repr=False)  # may embed credentials
    ca_bundle: str | None = None
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # HubEE's upload backend allows 300 s; a big file may need that long to be acknowledged.
    upload_read_timeout: float = 300.0
    scope: str = "SI"  # an OSL (the sandbox's test sender) uses "OSL"
    # Bounds on what HubEE sends: a JSON answer is read up to max_json_bytes (a list of 500
    # notifications or a case with its events is well under 1 MiB), a file written up to
    # max_file_bytes.
    max_json_bytes: int = 4 * MIB
    max_file_bytes: int = 512 * MIB

    def __post_init__(self) -> None:
        for name in ("token_url", "api_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
                raise ValueError(f"{name} must be an http(s) URL")
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret are required")
        for name in ("editor_name", "application_name", "software_version"):
            if len(getattr(self, name)) > MAX_HEADER_CHARS:
                raise ValueError(f"{name} exceeds HubEE's {MAX_HEADER_CHARS} characters")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError("retries must be an integer >= 0")
        for name in ("connect_timeout", "read_timeout", "upload_read_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("max_json_bytes", "max_file_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1")
        if self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("backoff_base and backoff_cap must be >= 0")
