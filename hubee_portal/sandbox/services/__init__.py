"""The OSL side of the sandbox and its controls, as plain functions.

Used by tests, the staff pages and the demo data: deposit télédossiers, act as the operator or
the citizen on a case, purge (one case, or HubEE's retention rules on an adjustable clock),
switch faults, and read the call log. Errors meant for people are
`SandboxError`s with French messages.

Layout: `deposits` (télédossiers and their files), `osl` (the operator and the citizen on a
case), `purge` (HubEE's purge and retention rules), `controls` (subscriptions, tokens, faults),
`inspection` (what HubEE sees, the call log). Callers import from here:
`services.deposit_case`, and the scheduled task `hubee_portal.sandbox.services.run_purge`.
"""

from __future__ import annotations

from .controls import (
    FAULT_FIELDS,
    OSL_CODES,
    create_subscription,
    drop_si_notifications,
    expire_tokens,
    reset_faults,
    set_faults,
)
from .deposits import (
    DEFAULT_APPLICANT,
    MAX_EXTERNAL_ID,
    MAX_GIVEN_EXTERNAL_ID,
    PROCESS_LABELS,
    PROCESS_NAMES,
    FileContent,
    FileSpec,
    complement_file,
    deposit_case,
    deposit_generated_case,
    generated_applicant,
    next_external_id,
    set_attachments_status,
)
from .errors import SandboxError
from .inspection import (
    CallCounts,
    call_counts,
    case_as_hubee_sees_it,
    clear_call_log,
    event,
    osl_notifications,
    pending_si_notifications,
    status_pushes,
)
from .osl import (
    CITIZEN_AUTHOR,
    OSL_AUTHOR,
    osl_acknowledge,
    osl_attach_deposit,
    osl_close,
    osl_message,
)
from .purge import (
    PURGE_ORDER,
    RETENTION_FIELDS,
    PurgeResult,
    purge_case,
    run_purge,
    set_retention,
    status_reached_at,
)

__all__ = [
    "CITIZEN_AUTHOR",
    "DEFAULT_APPLICANT",
    "FAULT_FIELDS",
    "MAX_EXTERNAL_ID",
    "MAX_GIVEN_EXTERNAL_ID",
    "OSL_AUTHOR",
    "OSL_CODES",
    "PROCESS_LABELS",
    "PROCESS_NAMES",
    "PURGE_ORDER",
    "RETENTION_FIELDS",
    "CallCounts",
    "FileContent",
    "FileSpec",
    "PurgeResult",
    "SandboxError",
    "call_counts",
    "case_as_hubee_sees_it",
    "clear_call_log",
    "complement_file",
    "create_subscription",
    "deposit_case",
    "deposit_generated_case",
    "drop_si_notifications",
    "event",
    "expire_tokens",
    "generated_applicant",
    "next_external_id",
    "osl_acknowledge",
    "osl_attach_deposit",
    "osl_close",
    "osl_message",
    "osl_notifications",
    "pending_si_notifications",
    "purge_case",
    "reset_faults",
    "run_purge",
    "set_attachments_status",
    "set_faults",
    "set_retention",
    "status_pushes",
    "status_reached_at",
]
