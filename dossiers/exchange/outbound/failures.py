"""Why a push failed, as a code the agent's page explains (dossiers.records.sends): HubEE's own
text and the HTTP details stay in last_error, for the staff pages and the logs."""

from __future__ import annotations

import re

from demarches.hubee import ConfigurationError
from dossiers.enums import SendFailure
from hubee_portal.hubee import HubEEError, Reason
from hubee_portal.hubee.vocabulary import LOCKED

NETWORK = {Reason.DNS, Reason.REFUSED, Reason.TIMEOUT, Reason.PROXY, Reason.NETWORK, Reason.TLS}


# HubEE's (and the sandbox's) refusal of an event on a closed case. Other wordings are caught
# by reading the case again (delivery.send_pending).
CLOSED_CASE = re.compile(rf"\bCase is ({'|'.join(sorted(LOCKED))})\b")


def is_closed_refusal(exc: HubEEError) -> bool:
    """HubEE refused an event because the case was closed meanwhile (read open just before)."""
    return exc.reason == Reason.BAD_REQUEST and bool(CLOSED_CASE.search(exc.hubee_message or ""))


def classify(exc: BaseException) -> SendFailure:
    if isinstance(exc, ConfigurationError):
        return SendFailure.CONFIGURATION
    if not isinstance(exc, HubEEError):
        return SendFailure.LOCAL
    if is_closed_refusal(exc):
        return SendFailure.CLOSED
    match exc.reason:
        case Reason.CREDENTIALS | Reason.FORBIDDEN | Reason.NO_TOKEN:
            return SendFailure.CREDENTIALS
        case Reason.NOT_FOUND:
            return SendFailure.GONE
        case Reason.THROTTLED:
            return SendFailure.THROTTLED
        case Reason.SERVER | Reason.INVALID_RESPONSE | Reason.INVALID_PAYLOAD:
            return SendFailure.SERVER
        case Reason.AMBIGUOUS:
            return SendFailure.UNFINISHED
        case reason if reason in NETWORK:
            return SendFailure.UNREACHABLE
    if exc.transient:
        return SendFailure.SERVER
    return SendFailure.REFUSED
