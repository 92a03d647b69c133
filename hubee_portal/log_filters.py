"""Logging filters referenced by settings.LOGGING."""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, PermissionDenied
from django.http.multipartparser import MultiPartParserError

# Refusals a user can cause on purpose or by a second click: the message says why.
EXPECTED_REFUSALS = (PermissionDenied, BadRequest, MultiPartParserError)


class OneLineRefusals(logging.Filter):
    """An expected refusal (4xx) is logged on one line, « Forbidden (Permission denied):
    /path (why) », without its traceback, which says nothing more. Errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        status = getattr(record, "status_code", None)
        if isinstance(exc, EXPECTED_REFUSALS) and status is not None and status < 500:
            reason = str(exc)
            if reason:
                record.msg = f"{record.getMessage()} ({reason})"
                record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
