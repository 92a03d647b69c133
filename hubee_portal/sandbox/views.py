"""The fake HubEE API an SI talks to (API.md §2.2 and §5).

Views stay thin: `api_view` does what HubEE's gateway does (latency, method override, bearer
token, throttling, identification headers, injected 5xx, call log) and `workflow` holds the
rules.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from . import connection, contract, faults, storage, workflow
from .enums import AttachmentStatus, CaseStatus, EventStatus, Party
from .models import (
    Attachment,
    CallLog,
    Case,
    Event,
    FaultSettings,
    Notification,
    Subscription,
    Token,
)
from .serializers import case_json, event_json, notification_json

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
DEFAULT_MAX_RESULT = 25
IDENTIFICATION_HEADERS = ("editorName", "applicationName", "softwareVersion")
MAX_HEADER_CHARS = 50
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_DIGEST_PREFIX_RE = re.compile(r"^sha-?256=", re.IGNORECASE)


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


# -- token -------------------------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    # OAuth2 also allows the credentials in the form.
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


@api_view("/oauth2/token", ("POST",), authenticated=False)
def token(call: ApiCall) -> HttpResponse:
    client_id, secret = _client_credentials(call.request)
    call.client_id = client_id
    subscription = Subscription.objects.filter(client_id=client_id).first() if client_id else None
    if subscription is None or not constant_time_compare(secret, subscription.client_secret):
        return _oauth_error(401, "invalid_client", "Client Authentication failed.")
    call.check_server_error()
    if call.request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type value")
    scopes = call.request.POST.get("scope", "SI").split()
    if scopes and "SI" not in scopes:
        return _oauth_error(400, "invalid_scope", "The requested scope is invalid")
    now = timezone.now()
    lifetime = call.faults.token_lifetime
    Token.objects.filter(subscription=subscription, expires_at__lt=now - timedelta(days=1)).delete()
    value = secrets.token_urlsafe(32)
    Token.objects.create(
        value=value, subscription=subscription, expires_at=now + timedelta(seconds=lifetime)
    )
    response = JsonResponse(
        {"access_token": value, "scope": "SI", "token_type": "Bearer", "expires_in": lifetime}
    )
    response["Cache-Control"] = "no-store"
    return response


# -- notifications -----------------------------------------------------------------------------


@api_view("/teledossiers/v1/notifications", ("GET",))
def notifications(call: ApiCall) -> HttpResponse:
    params = call.request.GET
    raw_max = params.get("maxResult")
    max_result = DEFAULT_MAX_RESULT
    if raw_max is not None:
        if not _NUMBER_RE.match(raw_max):
            raise call.invalid(
                "query.maxResult",
                "Instance type (string) does not match any allowed primitive type "
                '(allowed: ["integer","number"])',
            )
        max_result = max(0, int(float(raw_max)))
    event_details = params.get("eventDetails", "").lower() == "true"
    process_codes = params.getlist("processCode")
    if process_codes and call.sub.process_code not in process_codes:
        return JsonResponse([], safe=False)
    items = (
        Notification.objects.filter(subscription=call.sub, recipient_type=Party.SI)
        .select_related("subscription", "event")
        .order_by("sequence")[:max_result]
    )
    data = [notification_json(n, event_details=event_details) for n in items]
    return JsonResponse(data, safe=False)


@api_view("/teledossiers/v1/notifications/{notificationId}", ("DELETE",))
def notification_detail(call: ApiCall, notification_id: str) -> HttpResponse:
    notification_id = call.require_uuid(notification_id, "notificationId")
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.recipient_type != Party.SI:
        raise ApiError(404, "Notification is not found")
    if notification.subscription_id != call.sub.pk:
        raise ApiError(403, "Unauthorized user")
    notification.delete()
    return HttpResponse(status=204)


# -- cases -------------------------------------------------------------------------------------


def _case(call: ApiCall, case_id: str, *, lock: bool = False) -> Case:
    cases = Case.objects.select_related("subscription").filter(pk=case_id, purged=False)
    if lock:
        cases = cases.select_for_update()
    case = cases.first()
    if case is None:
        raise ApiError(404, "Case is not found")
    if case.subscription_id != call.sub.pk:
        raise ApiError(403, "Unauthorized user")
    return case


def _event(case: Case, event_id: str) -> Event:
    events = Event.objects.select_related("case__subscription")
    event = events.filter(pk=event_id, case=case).first()
    if event is None:
        raise ApiError(404, "event is not found")
    return event


@api_view("/teledossiers/v1/cases/{caseId}", ("GET", "PATCH"), override=True)
def case_detail(call: ApiCall, case_id: str) -> HttpResponse:
    case_id = call.require_uuid(case_id, "caseId")
    if call.method == "GET":
        case = _case(call, case_id)
        lite = call.request.GET.get("lite", "").lower() == "true"
        return JsonResponse(case_json(case, lite=lite))
    with transaction.atomic():
        case = _case(call, case_id, lock=True)
        status = workflow.parse_status_body(call.json_body())
        workflow.check_si_status(case, status)
        workflow.set_case_status(case, status, timezone.now())
    return HttpResponse(status=204)


@api_view("/teledossiers/v1/cases/{caseId}/events", ("POST",))
def case_events(call: ApiCall, case_id: str) -> HttpResponse:
    case_id = call.require_uuid(case_id, "caseId")
    with transaction.atomic():
        case = _case(call, case_id, lock=True)
        data = workflow.parse_event_payload(call.json_body())
        event = workflow.create_event(case, Party.SI, data, partner_info=call.partner_info)
    if call.faults.drop_response_after_post and faults.hits(
        call.faults, faults.LOST_ANSWER, call.resource
    ):
        # Recorded, but the gateway gave up waiting: the client must not create it twice.
        raise ApiError(504, "Gateway timeout (fault injected by the sandbox)")
    return JsonResponse(event_json(event), status=201)


@api_view(
    "/teledossiers/v1/cases/{caseId}/events/{eventId}", ("GET", "PATCH", "DELETE"), override=True
)
def event_detail(call: ApiCall, case_id: str, event_id: str) -> HttpResponse:
    case_id = call.require_uuid(case_id, "caseId")
    event_id = call.require_uuid(event_id, "eventId")
    if call.method == "GET":
        return JsonResponse(event_json(_event(_case(call, case_id), event_id)))
    with transaction.atomic():
        event = _event(_case(call, case_id, lock=True), event_id)
        if call.method == "DELETE":
            workflow.delete_deposit(event, Party.SI)
            return HttpResponse(status=204)
        status = workflow.parse_status_body(call.json_body())
        if status == EventStatus.RECEIVED:
            workflow.acknowledge(event, Party.SI)
        elif status == EventStatus.SENT:
            workflow.publish_deposit(event, Party.SI)
        else:
            raise workflow.RuleError(f"Invalid event status {status}")
    return HttpResponse(status=204)


# -- attachments -------------------------------------------------------------------------------


def _read_limited(handle: IO[bytes], size: int) -> Iterator[bytes]:
    try:
        while size > 0:
            chunk = handle.read(min(storage.CHUNK_SIZE, size))
            if not chunk:
                return
            size -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _download(call: ApiCall, attachment: Attachment | None) -> HttpResponse:
    if attachment is None or attachment.status != AttachmentStatus.RECEIVED:
        raise ApiError(404, "File is not found")
    handle = storage.open_attachment(attachment.id)
    if handle is None:
        raise ApiError(404, "File is not found")
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode("ascii")
    truncated = (
        call.faults.truncate_downloads
        and attachment.size > 0
        and faults.hits(call.faults, faults.TRUNCATE, call.resource)
    )
    if truncated:
        # Full Content-Length, half the bytes, then the connection drops: what a cut costs.
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            _read_limited(handle, attachment.size // 2), content_type="application/octet-stream"
        )
        response["Content-Length"] = str(attachment.size)
        call.link.close_after_response = True
    else:
        if call.faults.wrong_digest and faults.hits(
            call.faults, faults.WRONG_DIGEST, call.resource
        ):
            digest = base64.b64encode(hashlib.sha256(attachment.id.bytes).digest()).decode()
        response = FileResponse(handle, content_type="application/octet-stream")
        response.block_size = storage.CHUNK_SIZE
    response["digest"] = digest
    return response


@api_view("/teledossiers/v1/cases/{caseId}/attachments/{attachmentId}", ("GET",))
def case_attachment(call: ApiCall, case_id: str, attachment_id: str) -> HttpResponse:
    case_id = call.require_uuid(case_id, "caseId")
    attachment_id = call.require_uuid(attachment_id, "attachmentId")
    case = _case(call, case_id)
    return _download(call, Attachment.objects.filter(pk=attachment_id, case=case).first())


def _digest_header(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return _DIGEST_PREFIX_RE.sub("", value.strip(), count=1)


@api_view(
    "/teledossiers/v1/cases/{caseId}/events/{eventId}/attachments/{attachmentId}",
    ("GET", "PUT"),
    binary_body=True,
)
def event_attachment(
    call: ApiCall, case_id: str, event_id: str, attachment_id: str
) -> HttpResponse:
    case_id = call.require_uuid(case_id, "caseId")
    event_id = call.require_uuid(event_id, "eventId")
    attachment_id = call.require_uuid(attachment_id, "attachmentId")
    event = _event(_case(call, case_id), event_id)
    attachment = Attachment.objects.filter(pk=attachment_id, event=event).first()
    if call.method == "GET":
        return _download(call, attachment)
    if attachment is None:
        raise ApiError(404, "Binary meta-data is not found")
    if event.transmitter != Party.SI:
        raise ApiError(403, "Unauthorized user")
    if event.status != EventStatus.IN_PROGRESS:
        raise workflow.RuleError(f"Event is {event.status}: its files can no longer change")
    if event.case.status in (CaseStatus.CLOSED, CaseStatus.ARCHIVED):
        raise workflow.RuleError(f"Case is {event.case.status}: no further change is accepted")
    workflow.receive_file(
        attachment,
        call.request.read,
        expected_sha256_b64=_digest_header(call.request.headers.get("digest")),
    )
    return HttpResponse(status=204)
