"""Login throttling on top of django-axes: a limit per account across addresses, and a lockout
page that says when to retry.

Axes compares every lockout parameter with one limit; a per-account limit as low as the
per-address one would let anyone lock any account in five tries, so it is checked here with
its own, higher limit (AXES_ACCOUNT_FAILURE_LIMIT), over the same cool-off window.
"""

from __future__ import annotations

from datetime import datetime

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class AccountThrottle(AxesDatabaseHandler):
    """Axes' limit per (account, address), plus AXES_ACCOUNT_FAILURE_LIMIT per account."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        username = get_client_username(request, credentials)
        if failures >= limit or not username:
            return failures
        # Failures recorded in the window only: the lock lasts the cool-off, never more
        # (attempts refused during a lockout are not recorded, see settings).
        across = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(total=Sum("failures_since_start"))["total"]
        if (across or 0) >= settings.AXES_ACCOUNT_FAILURE_LIMIT:
            return limit
        return failures


def retry_at(username: str | None, request: HttpRequest) -> datetime:
    """When the lock ends at the latest: the account's last recorded failure plus the cool-off."""
    last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))
    return (last["last"] or timezone.now()) + get_cool_off(request)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    username = get_client_username(request, credentials)
    context = {
        "cooloff_timedelta": get_cool_off(request),
        "retry_at": timezone.localtime(retry_at(username, request)),
    }
    return render(
        request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
