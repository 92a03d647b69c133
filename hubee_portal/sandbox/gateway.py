"""HubEE's gateway in front of the fake API (API.md §2.2 and §3).

`api_view` wraps each handler of `views` with what the gateway does: latency, method
override, bearer token, throttling, identification headers, the contract check of requests
and answers, injected 5xx, and the call log. Errors are answered in HubEE's Error format.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import connection, contract, faults, workflow
from .models import CallLog, FaultSettings, Subscription, Token

logger = logging.getLogger(__name__)

INVALID_TOKEN_BODY = {
    "errors": [
        {
            "code": 900901,
            "message": "Invalid Credentials : Invalid Credentials. Make sure you have given the "
            "correct access token",
        }
    ]
}
# WSO2's throttling fault, in HubEE's Error format like its 900901 (API.md §11: a GUESS, HubEE
# documents no 429).
THROTTLED_CODE = 900802
THROTTLED_MESSAGE = "Message throttled out : You have exceeded your quota"
IDENTIFICATION_HEADERS = ("editorName", "applicationName", "softwareVersion")
MAX_HEADER_CHARS = 50
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class ApiError(Exception):
    """An answer in HubEE's Error format: `{"errors":[{"code":..,"message":..}]}`."""

    def __init__(
        self,
        status: int,
        message: str,
        code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.code = status if code is None else code
        self.headers = headers or {}
        super().__init__(message)

    def response(self) -> HttpResponse:
        response = error_response(self.status, self.message, self.code)
        for name, value in self.headers.items():
            response[name] = value
        return response


def error_response(status: int, message: str, code: int | None = None) -> JsonResponse:
    body = {"errors": [{"code": status if code is None else code, "message": message}]}
    return JsonResponse(body, status=status)


@dataclass
class ApiCall:
    """One API request as the handlers see it."""

    request: HttpRequest
    method: str  # after X-HTTP-Method-Override
    api_path: str  # as HubEE writes it, e.g. /teledossiers/v1/notifications
    faults: FaultSettings
    link: connection.ConnectionInfo
    subscription: Subscription | None = None
    client_id: str = ""
    partner_info: dict[str, str | None] | None = field(default=None)
    binary_body: bool = False
    _contract_request: Any = field(default=None, repr=False)

    def contract_request(self, checked: contract.Contract) -> Any:
        """The request as the contract check reads it (built once)."""
        if self._contract_request is None:
            try:
                self._contract_request = contract.contract_request(
                    checked, self.request, self.api_path, binary_body=self.binary_body
                )
            except RequestDataTooBig as exc:
                raise ApiError(400, "Request body is too large") from exc
        return self._contract_request

    @property
    def resource(self) -> str:
        """The key fault counters use: one per object and client."""
        return f"{self.method} {self.api_path} [{self.client_id}]"

    @property
    def sub(self) -> Subscription:
        assert self.subscription is not None  # set by api_view for authenticated routes
        return self.subscription

    def invalid(self, location: str, detail: str) -> ApiError:
        """HubEE's gateway 400 (API.md §3)."""
        message = (
            "Bad Request : Validation failed.\n"
            f"[ERROR][REQUEST][{self.request.method} {self.api_path} @{location}] {detail}"
        )
        return ApiError(400, message)

    def require_uuid(self, value: str, name: str) -> str:
        if not _UUID_RE.match(value):
            raise self.invalid(f"path.{name}", f'Input string "{value}" is not a valid UUID')
        return value.lower()

    def json_body(self) -> Any:
        try:
            raw = self.request.body
        except RequestDataTooBig as exc:
            raise ApiError(400, "Request body is too large") from exc
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise self.invalid("body", f"Unable to parse JSON - {exc}") from exc

    def check_throttle(self) -> None:
        if faults.throttled(self.faults, self.resource):
            logger.info("Sandbox: injected HTTP 429 on %s", self.resource)
            retry_after = str(self.faults.throttle_retry_after)
            raise ApiError(429, THROTTLED_MESSAGE, THROTTLED_CODE, {"Retry-After": retry_after})

    def check_server_error(self) -> None:
        status = faults.server_error(self.faults, self.resource)
        if status is not None:
            logger.info("Sandbox: injected HTTP %s on %s", status, self.resource)
            raise ApiError(status, "Internal server error (fault injected by the sandbox)")


def _api_path(request: HttpRequest) -> str:
    root = reverse("sandbox:token").removesuffix("oauth2/token")
    return "/" + request.path.removeprefix(root)


def _effective_method(request: HttpRequest, methods: tuple[str, ...], override: bool) -> str:
    method = request.method or "GET"
    requested = request.headers.get("X-HTTP-Method-Override")
    if method == "POST" and requested is not None:
        if override and requested.strip().upper() == "PATCH":
            return "PATCH"
        raise ApiError(405, "Method not allowed")
    if method not in methods:
        raise ApiError(405, "Method not allowed")
    return method


def _authenticate(call: ApiCall) -> None:
    scheme, _, value = call.request.headers.get("Authorization", "").partition(" ")
    token = None
    if scheme.lower() == "bearer" and value.strip():
        token = (
            Token.objects.select_related("subscription")
            .filter(value=value.strip(), expires_at__gt=timezone.now())
            .first()
        )
    if token is None:
        raise ApiError(401, INVALID_TOKEN_BODY["errors"][0]["message"], code=900901)
    call.subscription = token.subscription
    call.client_id = token.subscription.client_id


def _identification(call: ApiCall) -> None:
    values = {name: call.request.headers.get(name) for name in IDENTIFICATION_HEADERS}
    for name, value in values.items():
        if value is not None and len(value) > MAX_HEADER_CHARS:
            raise call.invalid(
                f"header.{name}",
                f"String is too long (length: {len(value)}, maximum allowed: {MAX_HEADER_CHARS})",
            )
    call.partner_info = values if any(values.values()) else None


def _check_request(call: ApiCall, checked: contract.Contract) -> None:
    """HubEE's gateway: 400 with its `[ERROR][REQUEST]` lines when the contract is broken."""
    violations = checked.request_violations(call.contract_request(checked))
    if violations:
        message = contract.request_message(call.request.method or "GET", call.api_path, violations)
        raise ApiError(400, message)


def _checked_response(
    call: ApiCall, checked: contract.Contract, response: HttpResponseBase
) -> HttpResponseBase:
    """HubEE's gateway: an answer that breaks the contract becomes a 500 `Bad Response`."""
    try:
        violations = contract.response_violations(checked, call.contract_request(checked), response)
    except ApiError:
        return response  # the request body could not be read: answered already
    if not violations:
        return response
    message = contract.response_message(call.request.method or "GET", call.api_path, violations)
    logger.error("Sandbox answer refused by the contract check: %s", message)
    contract.record(message)
    streamed = getattr(response, "file_to_stream", None)
    if streamed is not None:
        streamed.close()
    return error_response(500, message)


def api_view(
    template: str,
    methods: tuple[str, ...],
    *,
    authenticated: bool = True,
    override: bool = False,
    binary_body: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a handler `(call, **path_ids)` with what HubEE's gateway does, and log the call.

    `binary_body`: the route receives a file; the contract check never reads it.
    """

    def decorator(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(handler)
        def view(request: HttpRequest, **kwargs: str) -> HttpResponseBase:
            started = time.monotonic()
            settings_row = FaultSettings.load()
            call = ApiCall(
                request=request,
                method=request.method or "GET",
                api_path=_api_path(request),
                faults=settings_row,
                link=connection.from_environ(request.META),
                binary_body=binary_body,
            )
            # The token endpoint is not part of the Folder API contract.
            checked = contract.current() if authenticated else None
            faults.apply_latency(settings_row, call.link.new)
            status = 500
            try:
                response: HttpResponseBase
                try:
                    call.method = _effective_method(request, methods, override)
                    if authenticated:
                        _authenticate(call)
                        # WSO2 throttles once the token is known, before anything else.
                        call.check_throttle()
                        if checked is not None:
                            _check_request(call, checked)
                        _identification(call)
                        call.check_server_error()
                    response = handler(call, **kwargs)
                except ApiError as error:
                    response = error.response()
                    if error.status == 405:
                        response["Allow"] = ", ".join(methods)
                    if error.status == 401 and authenticated:
                        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                except workflow.RuleError as error:
                    response = error_response(error.status, error.message)
                except workflow.ContractError as error:
                    response = call.invalid(error.location, error.detail).response()
                if checked is not None:
                    response = _checked_response(call, checked, response)
                status = response.status_code
                return response
            finally:
                _log(call, template, status, started)

        return csrf_exempt(login_not_required(view))

    return decorator


def _log(call: ApiCall, template: str, status: int, started: float) -> None:
    try:
        CallLog.objects.create(
            method=call.method,
            path=template,
            resource=call.api_path[:500],
            status_code=status,
            client_id=call.client_id[:255],
            new_connection=call.link.new,
            connection_id=call.link.connection_id[:100],
            duration_ms=(time.monotonic() - started) * 1000,
        )
    except DatabaseError:
        logger.exception("Sandbox: call log not written")
