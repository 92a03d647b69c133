"""Sizes written the French way: « 12 octets », « 850 Ko », « 1,2 Mo »."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
# Multiples of 1 024, as the file explorer the agents use counts them, so that a file announced
# « 1,2 Mo » here shows the same size once downloaded and a 100 × 1 024² limit reads « 100 Mo ».
UNITS = ("Ko", "Mo", "Go", "To")
STEP = 1024


def _number(value: Decimal) -> str:
    """One decimal under 10 (« 1,2 »), none above (« 850 »); no trailing « ,0 »."""
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return text.removesuffix(".0").replace(".", ",")


def _round(value: Decimal) -> Decimal:
    quantum = Decimal("0.1") if value < 10 else Decimal("1")
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def file_size(size: object) -> str:
    """« 0 octet », « 1 000 octets », « 1 Ko », « 1,2 Mo »; « — » when the size is unknown."""
    try:
        count = int(size)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "—"
    if count < 0:
        return "—"
    if count < STEP:
        grouped = f"{count:,}".replace(",", NBSP)
        return f"{grouped}{NBSP}octet{'s' if count >= 2 else ''}"
    value = Decimal(count)
    for index, unit in enumerate(UNITS):
        value /= STEP
        rounded = _round(value)
        # 1 048 575 octets round to « 1 024 Ko »: say « 1 Mo » instead.
        if rounded < STEP or index == len(UNITS) - 1:
            return f"{_number(rounded)}{NBSP}{unit}"
    raise AssertionError("unreachable")
