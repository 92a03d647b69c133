"""The sandbox's switches: subscriptions and their tokens, injected faults, lost
notifications."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .. import faults
from ..enums import Party
from ..models import FaultSettings, Notification, Subscription, Token
from .errors import SandboxError

# Operator codes that start externalIds (API.md §4.3: `DGS-CERTDC-…`); DILA otherwise.
OSL_CODES = {"CERTDC": "DGS"}
FAULT_FIELDS = (
    "seed",
    "latency_ms",
    "connection_latency_ms",
    "error_rate",
    "token_lifetime",
    "truncate_downloads",
    "wrong_digest",
    "drop_response_after_post",
    "throttle_rate",
    "throttle_retry_after",
    "faults_per_resource",
)


# -- subscriptions -----------------------------------------------------------------------------


def create_subscription(
    process_code: str, client_id: str, client_secret: str, **rules: Any
) -> Subscription:
    """A démarche subscription with its credentials.

    `rules`: allows_messages, allows_add_awaiting, allows_document_return, and optionally name,
    si_siret, si_branch_code, osl_code, osl_siret, osl_branch_code and the retention settings
    (RETENTION_FIELDS).
    """
    if not process_code or not client_id or not client_secret:
        raise SandboxError("Le code de démarche, l'identifiant et le secret sont obligatoires.")
    rules.setdefault("osl_code", OSL_CODES.get(process_code, "DILA"))
    subscription = Subscription(
        process_code=process_code, client_id=client_id, client_secret=client_secret, **rules
    )
    subscription.full_clean()
    subscription.save()
    return subscription


def expire_tokens(subscription: Subscription | None = None) -> int:
    """Expire the tokens already issued (all, or one subscription's); returns how many."""
    tokens = Token.objects.filter(expires_at__gt=timezone.now())
    if subscription is not None:
        tokens = tokens.filter(subscription=subscription)
    return tokens.update(expires_at=timezone.now())


# -- faults ------------------------------------------------------------------------------------


def set_faults(**values: Any) -> FaultSettings:
    """Change fault switches (fields of FaultSettings); attempt counts start again from zero."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise SandboxError(f"Réglages de panne inconnus : {', '.join(sorted(unknown))}.")
    settings_row = FaultSettings.load()
    for name, value in values.items():
        setattr(settings_row, name, value)
    settings_row.full_clean()
    settings_row.save()
    faults.reset_counters()
    return settings_row


def reset_faults() -> FaultSettings:
    """Every switch back to its default (no fault)."""
    FaultSettings.objects.all().delete()
    faults.reset_counters()
    return FaultSettings.load()


def drop_si_notifications(subscription: Subscription) -> int:
    """Delete the SI's waiting notifications, as if they had been lost; returns how many."""
    deleted, _ = Notification.objects.filter(
        subscription=subscription, recipient_type=Party.SI
    ).delete()
    return deleted
