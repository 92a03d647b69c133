"""Hand-written baseline JPEG "scans": a grey page drawn in 8×8 blocks, no image library.

Each block is one flat grey (only its DC coefficient is coded, every AC coefficient is zero), so
the encoder is a Huffman coder of block values: small, exact and deterministic. Enough for a
sandbox scan that a viewer must decode and re-encode like a real one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

# ITU T.81 Annex K.3: the luminance DC table (code counts per length 1..16, then the symbols).
_DC_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_SYMBOLS = tuple(range(12))
# An AC table holding end-of-block only, as a 1-bit code: no block carries an AC coefficient.
_AC_COUNTS = (1,) + (0,) * 15
_AC_SYMBOLS = (0x00,)
_QUANT = 8  # DC coefficient = 8 × (mean − 128): quantised by 8, the stored value is mean − 128


def _codes(counts: Sequence[int], symbols: Sequence[int]) -> dict[int, tuple[int, int]]:
    """The canonical Huffman codes (value, length) of a table."""
    codes, code, index = {}, 0, 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes[symbols[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


_DC_CODES = _codes(_DC_COUNTS, _DC_SYMBOLS)
_EOB = _codes(_AC_COUNTS, _AC_SYMBOLS)[0x00]


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.value = 0
        self.count = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.value = (self.value << 1) | ((value >> shift) & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.value)
                if self.value == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.value = self.count = 0

    def flush(self) -> bytes:
        if self.count:
            self.write((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with 1 bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def encode_blocks(blocks: Sequence[Sequence[int]]) -> bytes:
    """A greyscale baseline JPEG whose 8×8 block (row, column) has the grey blocks[row][col]."""
    rows, cols = len(blocks), len(blocks[0])
    bits = _Bits()
    previous = 0
    for row in blocks:
        for grey in row:
            value = max(0, min(255, int(grey))) - 128
            diff = value - previous
            previous = value
            size = abs(diff).bit_length()
            code, length = _DC_CODES[size]
            bits.write(code, length)
            if size:
                bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
            bits.write(*_EOB)
    jfif = b"JFIF\x00\x01\x01\x01\x00\x96\x00\x96\x00\x00"  # 150 dpi, no thumbnail
    frame = b"\x08" + (rows * 8).to_bytes(2, "big") + (cols * 8).to_bytes(2, "big")
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, jfif),
            _segment(0xDB, b"\x00" + bytes([_QUANT] * 64)),
            _segment(0xC0, frame + b"\x01\x01\x11\x00"),
            _segment(0xC4, b"\x00" + bytes(_DC_COUNTS) + bytes(_DC_SYMBOLS)),
            _segment(0xC4, b"\x10" + bytes(_AC_COUNTS) + bytes(_AC_SYMBOLS)),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            bits.flush(),
            b"\xff\xd9",
        ]
    )


@dataclass
class _Canvas:
    rows: int
    cols: int

    def __post_init__(self) -> None:
        self.blocks = [[236] * self.cols for _ in range(self.rows)]

    def fill(self, top: int, left: int, height: int, width: int, grey: int) -> None:
        for row in range(top, min(top + height, self.rows)):
            for col in range(left, min(left + width, self.cols)):
                self.blocks[row][col] = grey


def identity_scan(rng: random.Random) -> bytes:
    """A scanned identity card on a page: a photo, lines of "text", a machine-readable zone.
    Same rng state, same bytes."""
    canvas = _Canvas(rows=48, cols=64)  # 512 × 384 px
    canvas.fill(6, 6, 36, 52, 214)  # the card
    canvas.fill(6, 6, 1, 52, 150)
    canvas.fill(41, 6, 1, 52, 150)
    canvas.fill(10, 9, 18, 14, 96 + rng.randint(0, 30))  # the photo
    for line in range(5):
        canvas.fill(11 + 3 * line, 27, 1, rng.randint(10, 26), 70)
    for line in range(2):
        canvas.fill(33 + 3 * line, 9, 2, 46, 110)  # the machine-readable zone
    return encode_blocks(canvas.blocks)
