"""The hand-written PDF summaries: PDF 1.4, A4, line wrapping, page breaks, exact xref table.

Standard Helvetica fonts with WinAnsiEncoding, so that French accents render without embedding
a font. No timestamp: the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

# Advance widths (1/1000 em) of the standard 14 fonts for the codes 32..126.
_HELVETICA_ASCII = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
_HELVETICA_BOLD_ASCII = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)  # fmt: skip
# Non-ASCII WinAnsi characters whose width is not that of a base letter: (regular, bold).
_WIDE_EXTRAS = {
    "Œ": (1000, 1000), "œ": (944, 944), "Æ": (1000, 1000), "æ": (889, 889), "ß": (611, 611),
    "«": (556, 556), "»": (556, 556), "°": (400, 400), "€": (556, 556), "‘": (222, 278),
    "’": (222, 278), "‚": (222, 278), "“": (333, 500), "”": (333, 500), "„": (333, 500),
    "–": (556, 556), "—": (1000, 1000), "…": (1000, 1000), "•": (350, 350),
    "\u00a0": (278, 278), "\u00ad": (333, 333), "™": (1000, 1000), "‰": (1000, 1000),
    "©": (737, 737), "®": (737, 737), "§": (556, 556), "×": (584, 584), "±": (584, 584),
}  # fmt: skip


def _width_table(ascii_widths: tuple[int, ...], bold: bool) -> tuple[int, ...]:
    table = [0] * 256
    for code in range(32, 127):
        table[code] = ascii_widths[code - 32]
    for code in range(128, 256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        if char in _WIDE_EXTRAS:
            table[code] = _WIDE_EXTRAS[char][1 if bold else 0]
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        table[code] = ascii_widths[ord(base) - 32] if " " <= base <= "~" else 556
    return tuple(table)


_WIDTHS = {
    "F1": _width_table(_HELVETICA_ASCII, bold=False),
    "F2": _width_table(_HELVETICA_BOLD_ASCII, bold=True),
}

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842  # A4 in points
_MARGIN_LEFT = 56
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_LEFT
_TOP_Y = 780
_BOTTOM_Y = 72
_FOOTER_Y = 40
_BODY = ("F1", 10, 14)  # font, size, leading
_HEADING = ("F2", 11, 16)
_TITLE = ("F2", 16, 20)


def _winansi(text: str) -> str:
    """The text reduced to characters of WinAnsiEncoding (cp1252): others are transliterated."""
    out = []
    for char in text:
        if char in "\t\r\n\v\f":
            out.append(" ")
            continue
        if ord(char) < 32 or 0x7F <= ord(char) < 0xA0:
            continue  # control characters
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            folded = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c) and _encodable(c)
            )
            out.append(folded or "?")
        else:
            out.append(char)
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return ord(char) >= 32


def _text_width(text: str, font: str, size: float) -> float:
    widths = _WIDTHS[font]
    return sum(widths[b] for b in text.encode("cp1252")) * size / 1000


def _wrap(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Split a (WinAnsi-safe) line into lines that fit max_width; long words are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _text_width(candidate, font, size) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _text_width(word, font, size) > max_width and len(word) > 1:
            cut = 1
            while cut < len(word) and _text_width(word[: cut + 1], font, size) <= max_width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi bytes: ``\\``, ``(`` and ``)`` escaped, 8-bit as octal."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte > 0x7E:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def _pdf_text_string(text: str) -> bytes:
    """A PDF text string (document information): UTF-16BE with BOM, as hexadecimal."""
    return b"<FEFF" + text.encode("utf-16-be", "replace").hex().upper().encode("ascii") + b">"


@dataclass
class _Page:
    texts: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    rules: list[float] = field(default_factory=list)


def _layout(title: str, lines: Sequence[str]) -> list[_Page]:
    pages = [_Page()]
    y = float(_TOP_Y)

    def new_page() -> None:
        nonlocal y
        pages.append(_Page())
        y = float(_TOP_Y)

    def emit(style: tuple[str, int, int], text: str) -> None:
        nonlocal y
        font, size, leading = style
        if y < _BOTTOM_Y:
            new_page()
        pages[-1].texts.append((font, size, _MARGIN_LEFT, y, text))
        y -= leading

    for part in _wrap(_winansi(title), _TITLE[0], _TITLE[1], _TEXT_WIDTH):
        emit(_TITLE, part)
    pages[0].rules.append(y + 12)
    y -= 10

    for raw in lines:
        for line in str(raw).splitlines() or [""]:
            if line.startswith("# "):
                parts = _wrap(_winansi(line[2:]), _HEADING[0], _HEADING[1], _TEXT_WIDTH)
                if y < _TOP_Y:
                    y -= 6  # space above a section heading
                # Keep a heading with at least one line of its section.
                if y < _TOP_Y and y - _HEADING[2] * len(parts) - _BODY[2] < _BOTTOM_Y:
                    new_page()
                for part in parts:
                    emit(_HEADING, part)
            elif not line.strip():
                if y < _TOP_Y:
                    y -= _BODY[2]
            else:
                for part in _wrap(_winansi(line), _BODY[0], _BODY[1], _TEXT_WIDTH):
                    emit(_BODY, part)
    return pages


def _page_stream(page: _Page, number: int, count: int) -> bytes:
    ops: list[bytes] = []
    for y in page.rules:
        right = _MARGIN_LEFT + _TEXT_WIDTH
        ops.append(b"0.6 w %d %.1f m %d %.1f l S" % (_MARGIN_LEFT, y, right, y))
    for font, size, x, y, text in page.texts:
        ops.append(
            b"BT /%s %d Tf %d %.1f Td %s Tj ET" % (font.encode(), size, x, y, _pdf_string(text))
        )
    footer = f"page {number} sur {count}"
    footer_x = _MARGIN_LEFT + _TEXT_WIDTH - _text_width(footer, "F1", 8)
    ops.append(b"BT /F1 8 Tf %.1f %d Td %s Tj ET" % (footer_x, _FOOTER_Y, _pdf_string(footer)))
    return b"\n".join(ops) + b"\n"


def make_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A readable A4 PDF 1.4: the title in bold, then the lines, wrapped and paginated.

    A line starting with ``"# "`` is a bold section heading; an empty line is a blank line.
    Text uses the standard Helvetica fonts with WinAnsiEncoding: French accents, ``œ``, ``€``
    and typographic quotes render; other characters are transliterated (or become ``?``).
    The document has no timestamp: the same input gives the same bytes.
    """
    pages = _layout(title, lines)
    count = len(pages)
    # 1 catalog, 2 page tree, 3-4 fonts, 5 info, then a (page, content stream) pair per page.
    page_numbers = [6 + 2 * i for i in range(count)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang (fr-FR) >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % n for n in page_numbers), count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title %s /Producer (HubEE Portal - bac a sable) /Creator (HubEE Portal) >>"
        % _pdf_text_string(title),
    ]
    for index, page in enumerate(pages):
        stream = _page_stream(page, index + 1, count)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> /ProcSet [/PDF /Text] >>"
            b" /Contents %d 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT, page_numbers[index] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    file_id = hashlib.sha256(bytes(out)).hexdigest()[:32].upper().encode("ascii")
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n" % xref_offset
    out += b"%%EOF\n"
    return bytes(out)
