"""The installation's logo: a PNG or JPEG decoded and re-encoded by Pillow, so that what the
portal serves is pixels it wrote itself (no trailing data, no metadata, no SVG script, no
polyglot), within a size and dimension cap."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Refused before decoding: a small file may declare a huge canvas (decompression bomb).
MAX_SOURCE_PIXELS = 25_000_000
# Shown 48 px high at most; twice that for sharp screens, with room for a wide logo.
MAX_SIDE = 512
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
WRONG_TYPE = (
    "Le logo doit être une image PNG ou JPEG (les SVG, GIF et autres formats sont refusés)."
)


@dataclass(frozen=True)
class Logo:
    content: bytes
    content_type: str


def reencode(data: bytes) -> Logo:
    """The logo as the portal stores and serves it, or a ValidationError in French."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"Le logo pèse plus de {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo : réduisez-le.",
            code="too_big",
        )
    # The bytes must say PNG or JPEG themselves, whatever the name or the declared type.
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise ValidationError(WRONG_TYPE, code="type")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            width, height = image.size
            if width * height > MAX_SOURCE_PIXELS:
                raise ValidationError(
                    f"Le logo mesure {width} × {height} pixels : réduisez-le (5000 × 5000 au "
                    "plus).",
                    code="too_large",
                )
            kind = image.format or ""
            image.load()
            picture = image.convert("RGBA" if kind == "PNG" else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "Le logo n'a pas pu être lu : enregistrez-le de nouveau en PNG ou JPEG.",
            code="unreadable",
        ) from exc
    if kind not in FORMATS:
        raise ValidationError(WRONG_TYPE, code="type")
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if kind == "PNG":
        picture.save(out, format="PNG", optimize=True)
    else:
        picture.save(out, format="JPEG", quality=90)
    return Logo(out.getvalue(), FORMATS[kind])
