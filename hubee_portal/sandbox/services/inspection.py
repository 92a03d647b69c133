"""What HubEE sees (cases, events, waiting notifications) and what the client called (the
call log)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..enums import ActionType, Party
from ..models import CallLog, Case, Event, Notification, Subscription
from ..serializers import case_json

# -- what HubEE sees ---------------------------------------------------------------------------


def case_as_hubee_sees_it(case: Case) -> dict[str, Any]:
    """The full Case JSON (with events), as GET /cases/{id} would answer (purged included)."""
    return case_json(Case.objects.select_related("subscription").get(pk=case.pk))


def event(event_id: uuid.UUID | str) -> Event:
    """An event by its HubEE id."""
    return Event.objects.select_related("case__subscription").get(pk=event_id)


def pending_si_notifications(subscription: Subscription) -> int:
    """How many notifications the SI has not deleted yet."""
    return Notification.objects.filter(subscription=subscription, recipient_type=Party.SI).count()


def osl_notifications(subscription: Subscription) -> list[Notification]:
    """Notifications waiting for the OSL side (SI events), oldest first."""
    return list(
        Notification.objects.filter(subscription=subscription, recipient_type=Party.OSL)
        .select_related("case", "event")
        .order_by("sequence")
    )


# -- call log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCounts:
    calls: int
    new_connections: int
    server_errors: int
    throttled: int = 0
    by_route: dict[str, int] = field(default_factory=dict)  # "GET /teledossiers/v1/…": n
    by_status: dict[int, int] = field(default_factory=dict)


def call_counts(
    *,
    client_id: str | None = None,
    since: datetime | None = None,
    method: str | None = None,
    path: str | None = None,
) -> CallCounts:
    """Counts of logged API calls, optionally for one client, route template or period."""
    calls = CallLog.objects.all()
    if client_id is not None:
        calls = calls.filter(client_id=client_id)
    if since is not None:
        calls = calls.filter(time__gte=since)
    if method is not None:
        calls = calls.filter(method=method)
    if path is not None:
        calls = calls.filter(path=path)
    rows = list(calls.values_list("method", "path", "status_code", "new_connection"))
    return CallCounts(
        calls=len(rows),
        new_connections=sum(1 for row in rows if row[3]),
        server_errors=sum(1 for row in rows if row[2] >= 500),
        throttled=sum(1 for row in rows if row[2] == 429),
        by_route=dict(Counter(f"{m} {p}" for m, p, _, _ in rows)),
        by_status=dict(Counter(row[2] for row in rows)),
    )


def clear_call_log() -> None:
    CallLog.objects.all().delete()


def status_pushes(case: Case) -> list[str]:
    """caseNewStatus of each STATUS_UPDATE the SI posted on the case, in order."""
    return list(
        Event.objects.filter(
            case_id=case.pk, transmitter_type=Party.SI, action_type=ActionType.STATUS_UPDATE
        )
        .order_by("position")
        .values_list("case_new_status", flat=True)
    )
