"""The fake HubEE API an SI talks to (API.md §2.2 and §5).

Views stay thin: `gateway.api_view` does what HubEE's gateway does (latency, method
override, bearer token, throttling, identification headers, injected 5xx, call log) and
`workflow` holds the rules.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import IO

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from . import faults, storage, workflow
from .enums import AttachmentStatus, CaseStatus, EventStatus, Party
from .gateway import ApiCall, ApiError, api_view
from .models import Attachment, Case, Event, Notification, Subscription, Token
from .serializers import case_json, event_json, notification_json

DEFAULT_MAX_RESULT = 25
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_DIGEST_PREFIX_RE = re.compile(r"^sha-?256=", re.IGNORECASE)


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
