"""The OAuth access token: asked for with the client credentials, reused until shortly before
it expires, dropped when HubEE rejects it. A `TokenStore` shares it between processes (workers
restart, several machines): a démarche asks for one token per lifetime, not one per process."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from .config import HubEEConfig
from .errors import AuthenticationError, PermanentError, Reason, TransientError, parse_error_body
from .http_errors import error_text, http_error, network_error, read_json_body

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_LIFETIME = 3600.0
TOKEN_REFRESH_MARGIN = 60.0


class TokenStore(Protocol):
    """Where tokens outlive a process, by key (one per subscription). Times are epoch seconds.
    Its failures are logged and ignored: the token is then asked for as without a store."""

    def load(self, key: str) -> tuple[str, float] | None:
        """The stored token and when it expires, or None."""

    def save(self, key: str, token: str, expires_at: float) -> None: ...

    def forget(self, key: str, token: str) -> None:
        """HubEE rejected `token`: remove it unless another one replaced it."""


class TokenCache:
    """One token shared by a client's threads; `fetch` returns (token, lifetime in s)."""

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        monotonic: Callable[[], float],
        *,
        store: TokenStore | None = None,
        key: str = "",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._monotonic = monotonic
        self._store = store if key else None
        self._key = key
        self._wall = wall
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def get(self) -> str:
        # The lock also makes concurrent threads wait for one fetch instead of each fetching.
        with self._lock:
            if self._token is not None and self._monotonic() < self._expires_at:
                return self._token
            if self._from_store():
                assert self._token is not None
                return self._token
            token, _ = self._renew()
            return token

    def _from_store(self) -> bool:
        if self._store is None:
            return False
        try:
            stored = self._store.load(self._key)
        except Exception:
            logger.exception("HubEE token store unreadable, a new token is asked for")
            return False
        if stored is None:
            return False
        token, expires_at = stored
        left = expires_at - self._wall()
        usable = left - TOKEN_REFRESH_MARGIN
        if usable <= 0:
            return False
        self._token = token
        self._expires_at = self._monotonic() + usable
        return True

    def renew(self) -> float:
        """Fetch a new token now, whatever the cached one; its lifetime in s."""
        with self._lock:
            _, lifetime = self._renew()
            return lifetime

    def drop(self, token: str) -> None:
        with self._lock:
            # Another thread may already hold a fresh one: keep it.
            if self._token == token:
                self._token = None
            if self._store is not None:
                try:
                    self._store.forget(self._key, token)
                except Exception:
                    logger.exception("HubEE token store: rejected token not removed")

    def _renew(self) -> tuple[str, float]:
        self._token = None
        started, started_wall = self._monotonic(), self._wall()
        token, lifetime = self._fetch()
        self._token = token
        self._expires_at = started + lifetime - min(TOKEN_REFRESH_MARGIN, lifetime * 0.1)
        if self._store is not None:
            try:
                self._store.save(self._key, token, started_wall + lifetime)
            except Exception:
                logger.exception("HubEE token store: token not saved")
        return token, lifetime


def request_token(
    session: requests.Session,
    config: HubEEConfig,
    *,
    headers: Mapping[str, str],
    options: Mapping[str, Any],
) -> tuple[str, float]:
    """POST the client credentials to the token URL, with `headers` as they are: (access
    token, lifetime in s)."""
    method, path = "POST", urlsplit(config.token_url).path or "/"
    try:
        response = session.post(
            config.token_url,
            auth=(config.client_id, config.client_secret),
            data={"scope": config.scope, "grant_type": "client_credentials"},
            headers=headers,
            timeout=(config.connect_timeout, config.read_timeout),
            allow_redirects=False,
            stream=True,  # read within max_json_bytes, as every JSON answer
            **options,
        )
    except requests.RequestException as exc:
        error = network_error(exc, method, path)
        if isinstance(error, TransientError):
            error.ambiguous = False  # the API call itself was not sent
        raise error from exc
    with response:
        status = response.status_code
        if status in (400, 401):
            code, message = parse_error_body(error_text(response))
            logger.error("HubEE token request rejected (HTTP %s)", status)
            raise AuthenticationError(
                "HubEE rejected the client credentials",
                method=method,
                path=path,
                status_code=status,
                code=code,
                hubee_message=message,
            )
        if not 200 <= status < 300:
            error = http_error(response, method, path)
            if isinstance(error, TransientError):
                error.ambiguous = False
            raise error
        try:
            body = read_json_body(response, config.max_json_bytes, method, path)
        except TransientError as error:
            error.ambiguous = False  # an interrupted token answer: no API call was sent
            raise
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise PermanentError(
            "HubEE token response has no access_token",
            method=method,
            path=path,
            status_code=status,
            reason=Reason.NO_TOKEN,
        )
    lifetime = _token_lifetime(data.get("expires_in"))
    logger.info("HubEE token obtained, valid %d s", int(lifetime))
    return token, lifetime


def _token_lifetime(value: Any) -> float:
    try:
        lifetime = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME
    if not math.isfinite(lifetime) or lifetime <= 0:
        return DEFAULT_TOKEN_LIFETIME
    return lifetime
