"""JPEG scans of the sandbox: valid baseline JPEGs written without an image library, added
only when asked, drawn last so that every other file keeps its bytes."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from hubee_portal.sandbox.content import (
    SCAN_PROCESS_CODES,
    SUPPORTED_PROCESS_CODES,
    generate_files,
    identity_scan,
    new_external_id,
    random_applicant,
)
from hubee_portal.sandbox.content.jpeg import encode_blocks


def deposit(code: str, seed: int, **kwargs):
    rng = random.Random(seed)
    applicant = random_applicant(rng)
    return generate_files(code, applicant, new_external_id(code, rng), rng, **kwargs)


def test_the_scan_is_a_jpeg_pillow_decodes_to_the_drawn_greys():
    data = encode_blocks([[0, 255], [128, 30]])
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode, image.size) == ("JPEG", "L", (16, 16))
    image.load()
    assert [image.getpixel((x, y)) for x, y in ((3, 3), (12, 3), (3, 12), (12, 12))] == [
        0,
        255,
        128,
        30,
    ]


def test_identity_scan_is_deterministic():
    assert identity_scan(random.Random(4)) == identity_scan(random.Random(4))
    assert identity_scan(random.Random(4)) != identity_scan(random.Random(5))
    image = Image.open(io.BytesIO(identity_scan(random.Random(4))))
    image.load()
    assert image.size == (512, 384)


@pytest.mark.parametrize("code", SUPPORTED_PROCESS_CODES)
def test_a_scan_is_added_only_when_asked_and_changes_no_other_file(code):
    plain = deposit(code, 2024)
    assert plain == deposit(code, 2024, scan=False)
    with_scan = deposit(code, 2024, scan=True)
    if code not in SCAN_PROCESS_CODES:
        assert with_scan == plain
        return
    assert with_scan[:-1] == plain
    added = with_scan[-1]
    assert (added.type, added.mime_type) == ("scan", "image/jpeg")
    assert added.file_name.endswith("-scan-identite.jpg")
    assert added.content.startswith(b"\xff\xd8\xff") and added.content.endswith(b"\xff\xd9")
    assert with_scan == deposit(code, 2024, scan=True)
