"""Calendar periods shared by the retention rules (dossiers, audit journal) and the waits
shown to people."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.utils import timezone


def months_before(now: datetime, months: int) -> datetime:
    """Same day `months` earlier, or that month's last day (31 May − 1 month = 30 April)."""
    year, month = divmod(now.month - 1 - months, 12)
    year, month = now.year + year, month + 1
    last_day = calendar.monthrange(year, month)[1]
    return now.replace(year=year, month=month, day=min(now.day, last_day))


def minute_after(moment: datetime) -> str:
    """HH:MM in local time, rounded up: the wait is over at the minute shown."""
    local = timezone.localtime(moment)
    if local.second or local.microsecond:
        local += timedelta(minutes=1)
    return f"{local:%H:%M}"
