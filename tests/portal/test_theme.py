"""Our own sober theme (issue 21): none of the State design system's colours, and every text /
background pair of the palette readable (WCAG AA, RGAA 3.2 and 3.3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "hubee_portal" / "static" / "portal"
PALETTE = STATIC / "portal.css"
# The DSFR's colour values (blue France, red Marianne, its greys, its action and status
# colours): reserved to State services, a commune's portal must not look like one.
DSFR = {
    "#000091", "#1212ff", "#6a6af4", "#8585f6", "#cacafb", "#e3e3fd", "#ececfe", "#f5f5fe",
    "#e1000f", "#c9191e", "#f60700", "#ff292f", "#fcbfbf", "#ffe9e9", "#fee9e9",
    "#161616", "#3a3a3a", "#666666", "#929292", "#dddddd", "#e5e5e5", "#eeeeee", "#f6f6f6",
    "#18753c", "#27a658", "#b8fec9", "#dffee6",
    "#ce0500", "#b34000", "#fc5d00", "#ffe9e6", "#fff4f3",
    "#0063cb", "#e8edff", "#f4f6ff", "#0078f3",
}  # fmt: skip
# (text, background, minimum): text 4.5:1; field borders, focus and badge edges 3:1.
PAIRS = [
    ("--ink", "#ffffff", 4.5),
    ("--muted", "#ffffff", 4.5),
    ("--muted", "--surface", 4.5),
    ("--primary", "#ffffff", 4.5),
    ("#ffffff", "--primary", 4.5),
    ("#ffffff", "--primary-dark", 4.5),
    ("--primary", "--primary-tint", 4.5),
    ("--primary-dark", "--primary-tint", 4.5),
    ("--error", "#ffffff", 4.5),
    ("--error", "--error-tint", 4.5),
    ("--success", "--success-tint", 4.5),
    ("--warning", "--warning-tint", 4.5),
    ("--ink", "--neutral-tint", 4.5),
    ("--banner", "--banner-tint", 4.5),
    ("--field", "#ffffff", 3.0),
    ("--focus", "#ffffff", 3.0),
]


def _expand(value: str) -> str:
    value = value.lower()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


def custom_properties() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", PALETTE.read_text(encoding="utf-8"), re.S)
    assert root, "portal.css n'a pas de bloc :root"
    found = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", root.group(1)))
    return {name: _expand(value) for name, value in found.items()}


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_computation_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("text", "background", "minimum"), PAIRS)
def test_palette_pairs_are_readable(text, background, minimum):
    palette = custom_properties()
    colours = [palette[c] if c.startswith("--") else c for c in (text, background)]
    ratio = contrast(*colours)
    assert ratio >= minimum, f"{text} sur {background} : {ratio:.2f}:1 < {minimum}:1"


@pytest.mark.parametrize("path", [*STATIC.glob("*.css"), *STATIC.glob("*.svg")], ids=str)
def test_no_dsfr_colour_remains(path):
    used = {
        _expand(v) for v in re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", path.read_text())
    }
    assert not used & DSFR, f"couleurs du DSFR dans {path.name} : {sorted(used & DSFR)}"


def test_no_marianne_font_anywhere():
    for path in STATIC.glob("*.css"):
        assert "marianne" not in path.read_text(encoding="utf-8").lower(), path.name
