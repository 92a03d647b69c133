"""Server-rendered SVG bar charts (dashboard, statistics): the geometry they share."""

from __future__ import annotations

WIDTH, HEIGHT = 720, 200
BOTTOM, TOP = 24, 12


def bar_box(index: int, value: int, maximum: int, slots: int, left: int) -> dict[str, float]:
    """x, y, width and height of the bar of slot `index` among `slots`, `value` of `maximum`."""
    step = (WIDTH - left - 8) / slots
    height = (HEIGHT - BOTTOM - TOP) * max(value, 0) / maximum
    return {
        "x": round(left + index * step + step * 0.15, 1),
        "y": round(HEIGHT - BOTTOM - height, 1),
        "width": round(step * 0.7, 1),
        "height": round(height, 1),
    }


def tick_x(index: int, slots: int, left: int) -> float:
    """Where the label under slot `index` is centred."""
    step = (WIDTH - left - 8) / slots
    return round(left + index * step + step / 2, 1)
