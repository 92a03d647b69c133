"""Seeded, deterministic fault injection.

Every fault kind counts its own attempts per resource (method + path) in the database, so it
works across the threads and processes of a server. A fault hits only the first
`faults_per_resource` attempts of its kind at a resource: a client that retries recovers.
Latencies are costs, not faults: they apply to every call.
"""

from __future__ import annotations

import random
import time

from django.db import transaction
from django.db.models import F

from .models import FaultCounter, FaultSettings

SERVER_ERROR = "5xx"
TRUNCATE = "truncate"
WRONG_DIGEST = "digest"
LOST_ANSWER = "lost-answer"
THROTTLE = "429"
SERVER_ERROR_STATUSES = (500, 502, 503)

# Indirection so tests can record sleeps instead of waiting.
sleep = time.sleep


def apply_latency(faults: FaultSettings, new_connection: bool) -> None:
    """Sleep the per-call latency, plus the handshake cost on a new connection."""
    delay_ms = faults.latency_ms + (faults.connection_latency_ms if new_connection else 0)
    if delay_ms > 0:
        sleep(delay_ms / 1000)


def _rng(faults: FaultSettings, kind: str, resource: str, attempt: int) -> random.Random:
    return random.Random(f"{faults.seed}:{kind}:{resource}:{attempt}")  # noqa: S311 - not crypto


def _next_attempt(key: str) -> int:
    with transaction.atomic():
        counter, _ = FaultCounter.objects.select_for_update().get_or_create(key=key)
        FaultCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    return counter.count + 1


def hits(faults: FaultSettings, kind: str, resource: str, probability: float = 1.0) -> bool:
    """Whether the fault `kind` hits this attempt at `resource` (the attempt is counted)."""
    if probability <= 0:
        return False
    attempt = _next_attempt(f"{kind}|{resource}")
    if faults.faults_per_resource and attempt > faults.faults_per_resource:
        return False
    if probability >= 1:
        return True
    return _rng(faults, kind, resource, attempt).random() < probability


def server_error(faults: FaultSettings, resource: str) -> int | None:
    """The 5xx status to answer instead of processing the request, or None."""
    if not hits(faults, SERVER_ERROR, resource, faults.error_rate):
        return None
    return _rng(faults, "status", resource, 0).choice(SERVER_ERROR_STATUSES)


def throttled(faults: FaultSettings, resource: str) -> bool:
    """Whether the gateway answers 429 to this attempt instead of processing it."""
    return hits(faults, THROTTLE, resource, faults.throttle_rate)


def reset_counters() -> None:
    FaultCounter.objects.all().delete()
