"""Dates as an agent reads them: « 5 juin 1988 », « 5 juin 1988 à 11 h 42 »."""

from __future__ import annotations

import re
from datetime import date

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# 1988-06-05, 1988-06-05T11:42:48 (seconds and zone ignored), 05/06/1988.
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_FRENCH = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def french_date(day: date) -> str:
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def from_parts(year: str, month: str, day: str) -> str:
    """Three separate fields (as in the PACS flux); empty when they make no date."""
    try:
        found = _safe_date(int(year), int(month), int(day))
    except ValueError:
        return ""
    return french_date(found) if found else ""


def humanize(value: str) -> str:
    """A date or date-time written in French; any other value unchanged."""
    text = value.strip()
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute = match.groups()
        found = _safe_date(int(year), int(month), int(day))
        if found is None:
            return value
        if hour is None:
            return french_date(found)
        return f"{french_date(found)} à {int(hour)} h {minute}"
    match = _FRENCH.match(text)
    if match:
        day, month, year = match.groups()
        found = _safe_date(int(year), int(month), int(day))
        return french_date(found) if found else value
    return value


def time_of_day(value: str) -> str:
    """« 10:16:00 » → « 10 h 16 »; any other value unchanged."""
    match = re.match(r"^(\d{2}):(\d{2})(?::\d{2})?$", value.strip())
    return f"{int(match[1])} h {match[2]}" if match else value
