"""The HTTP side of a client: its keep-alive session, the token on every request, one replay
after a rejected token, and retries with jittered backoff for transient failures of idempotent
calls. No redirect is ever followed: HubEE does not redirect, and a redirect could carry the
credentials or a request to another server."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from .config import HubEEConfig
from .errors import HubEEError, NotFoundError, PermanentError, Reason, TransientError
from .http_errors import http_error, network_error, read_json_body
from .tokens import TokenCache, TokenStore, request_token

logger = logging.getLogger(__name__)

POOL_MAXSIZE = 16
JSON_ACCEPT = {"Accept": "application/json"}


@dataclass
class HubEEStats:
    """Counters of one client. `calls` counts every HTTP request sent, token ones included."""

    calls: int = 0
    token_requests: int = 0
    retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class CallState:
    """What one logical call has spent so far, across its attempts."""

    max_retries: int
    retries_used: int = 0
    auth_refreshed: bool = False
    # An earlier attempt may have been processed by HubEE (timeout, 5xx, dropped connection).
    ambiguous: bool = False


def new_session(config: HubEEConfig) -> requests.Session:
    session = requests.Session()
    # Retries are ours (they know which calls are idempotent): none in urllib3.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if config.proxies:
        session.proxies.update(config.proxies)
    if config.ca_bundle:
        session.verify = config.ca_bundle
    return session


class Transport:
    """Sends a client's requests on `session`; safe to share between threads. Paths are
    relative to `api_prefix` (the API version, the client's)."""

    def __init__(
        self,
        config: HubEEConfig,
        session: requests.Session,
        *,
        api_prefix: str,
        sleep: Callable[[float], None],
        monotonic: Callable[[], float],
        rng: random.Random,
        token_store: TokenStore | None = None,
        token_key: str = "",
    ) -> None:
        self.config = config
        self.session = session
        self._sleep = sleep
        self._rng = rng
        self.api_prefix = api_prefix
        self._api_base = _api_base(config.api_url, api_prefix)
        self._base_headers = {
            name: value
            for name, value in (
                ("editorName", config.editor_name),
                ("applicationName", config.application_name),
                ("softwareVersion", config.software_version),
            )
            if value
        }
        # Per-request values: requests lets environment variables override session.verify.
        self._request_options: dict[str, Any] = {}
        if config.proxies is not None:
            self._request_options["proxies"] = dict(config.proxies)
        if config.ca_bundle:
            self._request_options["verify"] = config.ca_bundle
        self.tokens = TokenCache(self._fetch_token, monotonic, store=token_store, key=token_key)
        self._stats_lock = threading.Lock()
        self._stats = HubEEStats()

    @property
    def stats(self) -> HubEEStats:
        with self._stats_lock:
            return replace(self._stats)

    def _count(self, *, calls: int = 0, token_requests: int = 0, retries: int = 0) -> None:
        with self._stats_lock:
            self._stats.calls += calls
            self._stats.token_requests += token_requests
            self._stats.retries += retries

    def _fetch_token(self) -> tuple[str, float]:
        self._count(calls=1, token_requests=1)
        return request_token(
            self.session,
            self.config,
            headers={**self._base_headers, **JSON_ACCEPT},
            options=self._request_options,
        )

    def new_state(self, max_retries: int | None = None) -> CallState:
        return CallState(self.config.retries if max_retries is None else max_retries)

    def attempt(
        self,
        state: CallState,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> requests.Response:
        """One attempt (plus one replay after a token refresh); a 2xx response or an error."""
        full_path = self.api_prefix + path
        url = self._api_base + full_path
        timeout = (self.config.connect_timeout, read_timeout or self.config.read_timeout)
        while True:
            token = self.tokens.get()
            request_headers = {
                **self._base_headers,
                **(headers or {}),
                "Authorization": f"Bearer {token}",
            }
            self._count(calls=1)
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=body() if body is not None else None,
                    headers=request_headers,
                    stream=stream,
                    timeout=timeout,
                    allow_redirects=False,
                    **self._request_options,
                )
            except requests.RequestException as exc:
                raise network_error(exc, method, full_path) from exc
            status = response.status_code
            logger.debug("HubEE %s %s -> HTTP %s", method, full_path, status)
            if 200 <= status < 300:
                return response
            if status == 401 and not state.auth_refreshed:
                # Expired or revoked token (WSO2 code 900901): one fresh token, one replay.
                response.close()
                state.auth_refreshed = True
                self.tokens.drop(token)
                logger.info("HubEE %s %s: token rejected, fetching a new one", method, full_path)
                continue
            with response:
                raise http_error(response, method, full_path)

    def call(self, state: CallState, method: str, path: str, **kwargs: Any) -> requests.Response:
        """`attempt` retried on transient failures; only for idempotent requests."""
        while True:
            try:
                return self.attempt(state, method, path, **kwargs)
            except TransientError as error:
                state.ambiguous = state.ambiguous or error.ambiguous
                self.before_retry(state, error)

    def before_retry(self, state: CallState, error: HubEEError) -> None:
        """Sleep before the next attempt, or raise `error` when the budget is spent."""
        if state.retries_used >= state.max_retries:
            raise error
        delay = self._retry_delay(state.retries_used, error)
        state.retries_used += 1
        self._count(retries=1)
        logger.warning(
            "HubEE %s %s failed (%s, HTTP %s), retry %d/%d in %.2f s",
            error.method,
            error.path,
            type(error).__name__,
            error.status_code,
            state.retries_used,
            state.max_retries,
            delay,
        )
        self._sleep(delay)

    def _retry_delay(self, attempt: int, error: HubEEError) -> float:
        cap = self.config.backoff_cap
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(cap, error.retry_after)
        # Full jitter: spreads out clients that failed together.
        return self._rng.uniform(0, min(cap, self.config.backoff_base * 2 ** min(attempt, 32)))

    def get_json(
        self,
        path: str,
        params: Mapping[str, str] | list[tuple[str, str]] | None,
        *,
        retries: int | None = None,
    ) -> Any:
        """GET a JSON answer, retried (an interrupted body too), read within max_json_bytes."""
        state = self.new_state(retries)
        while True:
            response = self.call(
                state, "GET", path, params=params, headers=JSON_ACCEPT, stream=True
            )
            try:
                with response:
                    return self.read_json(response, "GET", path)
            except TransientError as error:
                state.ambiguous = state.ambiguous or error.ambiguous
                self.before_retry(state, error)

    def get_object(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON object, retried."""
        data = self.get_json(path, params)
        if not isinstance(data, dict):
            raise PermanentError(
                f"HubEE answered a JSON {type(data).__name__} where an object was expected",
                method="GET",
                path=self.api_prefix + path,
                status_code=200,
                reason=Reason.INVALID_RESPONSE,
            )
        return data

    def delete(self, path: str) -> None:
        """DELETE, retried; a 404 after an attempt HubEE may have processed counts as done."""
        state = self.new_state()
        try:
            self.call(state, "DELETE", path).close()
        except NotFoundError:
            # A lost answer to an earlier attempt: it was done then.
            if not state.ambiguous:
                raise
            logger.info(
                "HubEE DELETE %s%s: 404 after an unclear attempt, done", self.api_prefix, path
            )

    def read_json(self, response: requests.Response, method: str, path: str) -> Any:
        """The JSON of a streamed answer, read within max_json_bytes (TooLargeError past it)."""
        full_path = self.api_prefix + path
        body = read_json_body(response, self.config.max_json_bytes, method, full_path)
        try:
            return without_nul(json.loads(body))
        except ValueError as exc:
            raise PermanentError(
                "HubEE answered with invalid JSON",
                method=method,
                path=full_path,
                status_code=response.status_code,
                reason=Reason.INVALID_RESPONSE,
            ) from exc


def without_nul(value: Any) -> Any:
    """`value` with every NUL in its strings (keys too) replaced by U+FFFD: PostgreSQL refuses
    NUL in text and JSON columns, and a case that cannot be stored would fail at every run."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def _api_base(api_url: str, api_prefix: str) -> str:
    base = api_url.rstrip("/")
    # Tolerate a configured URL that already ends with the API prefix.
    if base.endswith(api_prefix):
        base = base[: -len(api_prefix)]
    return base
