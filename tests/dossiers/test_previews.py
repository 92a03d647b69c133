"""Previews (dossiers.records.previews): which files get one, the child process that renders
them, broken and hostile files, the wall limit, the cache under DATA_DIR/apercus."""

from __future__ import annotations

import hashlib
import io
import os
import random
import resource
import stat
import struct
import time
import zlib

import pytest
from PIL import Image

from dossiers.records import previews
from hubee_portal.sandbox.content import identity_scan, make_pdf
from tests.factories import DossierFactory, PieceJointeFactory

pytestmark = pytest.mark.django_db

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def real_pdf(pages_of_lines: int = 10) -> bytes:
    return make_pdf("Acte de naissance", [f"Ligne {n}" for n in range(pages_of_lines)])


def page_count(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page /Parent")


def scan() -> bytes:
    return identity_scan(random.Random(3))


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def jpeg_bomb() -> bytes:
    """A 1.4 kB JPEG whose frame header declares 65,000 × 65,000 pixels."""
    data = bytearray(scan())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def png_bomb() -> bytes:
    """A small PNG whose header declares 100,000 × 100,000 pixels (with a valid CRC)."""
    data = bytearray(png())
    start = data.index(b"IHDR")
    data[start + 4 : start + 12] = struct.pack(">II", 100_000, 100_000)
    crc = zlib.crc32(bytes(data[start : start + 17]))
    data[start + 17 : start + 21] = struct.pack(">I", crc)
    return bytes(data)


def piece(content: bytes, mime: str = PDF, name: str = "acte.pdf", **kwargs):
    return PieceJointeFactory(content=content, mime_type=mime, file_name=name, **kwargs)


@pytest.mark.parametrize(
    ("content", "mime", "expected"),
    [
        (real_pdf(), PDF, True),
        (real_pdf(), "application/pdf; charset=binary", True),
        (scan(), JPEG, True),
        (png(), PNG, True),
        (real_pdf(), "application/octet-stream", False),  # declared type unknown
        (scan(), PNG, False),  # declared PNG, bytes of a JPEG
        (png(), PDF, False),
        (b"<html><body>Acte</body></html>", PDF, False),  # an HTML page named .pdf
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", False),
        (b"<Demande/>", "application/xml", False),
    ],
)
def test_can_open_needs_the_declared_type_and_the_first_bytes_to_agree(content, mime, expected):
    assert previews.can_open(piece(content, mime)) is expected


def test_can_open_refuses_missing_unstored_and_oversized_files(monkeypatch):
    gone = piece(real_pdf())
    gone.absolute_path.unlink()
    assert not previews.can_open(gone)
    assert not previews.can_open(piece(real_pdf(), state="pending"))
    big = piece(real_pdf())
    assert previews.can_open(big)
    monkeypatch.setitem(previews.MAX_BYTES, "pdf", 100)
    assert not previews.can_open(big)


def test_a_pdf_is_rendered_as_png_pages_in_data_dir(data_dir):
    content = real_pdf(120)
    item = piece(content)
    preview = previews.render(item)
    assert len(preview.pages) == preview.total == page_count(content) > 1
    assert not preview.truncated
    folder = data_dir / "apercus" / str(item.dossier_id)
    for number, path in enumerate(preview.pages, start=1):
        assert path.parent.parent == folder
        with Image.open(path) as image:
            assert image.format == "PNG"
            # 150 dpi on A4 (595 × 842 pt): 1240 × 1755 px (rounded up), under the 2,000 px cap.
            assert image.size == (1240, 1755), number
    # Never in the démarche folder, which other tools read.
    assert not any(p.suffix == ".png" for p in item.dossier.folder.iterdir())


def test_a_sample_pdf_of_the_test_kit_is_rendered(settings):
    sample = settings.BASE_DIR.parent / "shared" / "hubee" / "samples" / "EtatCivil"
    path = sample / "ActeEtatCivil-PDF.pdf"
    if not path.is_file():
        pytest.skip(f"échantillons HubEE absents ({path})")
    preview = previews.render(piece(path.read_bytes()))
    assert len(preview.pages) >= 1


def test_pages_are_capped_at_20_and_2000_px(monkeypatch):
    content = real_pdf(1300)
    assert page_count(content) > 20
    preview = previews.render(piece(content))
    assert preview.total == page_count(content) and len(preview.pages) == 20
    assert preview.truncated
    monkeypatch.setattr(previews, "DPI", 400)
    big = previews.render(piece(real_pdf(10)))
    with Image.open(big.pages[0]) as image:
        assert max(image.size) == 2000


def test_a_scan_is_decoded_and_re_encoded_without_metadata():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Appareil secret"  # Make
    exif[0x0112] = 6  # rotated: exif_transpose turns it upright
    Image.new("RGB", (60, 20), (0, 90, 200)).save(out, "JPEG", exif=exif, comment=b"GPS 43.7")
    raw = out.getvalue()
    preview = previews.render(piece(raw, JPEG, "scan.jpg"))
    shown = preview.pages[0].read_bytes()
    assert shown != raw
    assert b"Appareil secret" not in shown and b"GPS 43.7" not in shown
    with Image.open(preview.pages[0]) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 60)
        assert not image.getexif()
    with Image.open(previews.render(piece(png(), PNG, "p.png")).pages[0]) as image:
        assert image.format == "PNG" and image.size == (40, 30)


def test_the_sandbox_scan_is_previewed():
    preview = previews.render(piece(scan(), JPEG, "scan.jpg"))
    with Image.open(preview.pages[0]) as image:
        assert image.size == (512, 384)


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"%PDF-1.4\n" + os.urandom(64) * 32, PDF),  # a header, then garbage
        (real_pdf()[: len(real_pdf()) // 2], PDF),  # truncated
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>", PDF),  # HTML behind a header
        (jpeg_bomb(), JPEG),
        (png_bomb(), PNG),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, JPEG),  # a JPEG header and nothing else
    ],
    ids=["garbage", "truncated", "html", "jpeg-bomb", "png-bomb", "empty-jpeg"],
)
def test_broken_and_hostile_files_give_no_preview(content, mime, caplog, data_dir):
    item = piece(content, mime)
    assert previews.can_open(item)  # the first bytes look right: only decoding tells
    with pytest.raises(previews.PreviewUnavailable):
        previews.render(item)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"pièce {item.pk}" in logged
    assert "alert" not in logged
    # Nothing half-made is left in the cache; only the marks that it failed (and its lock).
    folder = data_dir / "apercus" / str(item.dossier_id)
    assert {p.suffix for p in folder.iterdir()} == {".failed", ".lock"}


def test_the_child_is_killed_at_the_wall_limit(caplog):
    item = piece(real_pdf())
    started = time.monotonic()
    with pytest.raises(previews.PreviewUnavailable):
        previews.render(item, timeout=1.5, worker="tests.dossiers.slow_preview_worker")
    assert time.monotonic() - started < 10
    pid = int((item.absolute_path.parent / "worker.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "délai de 1.5 s dépassé" in caplog.text


def test_the_cache_is_reused_rebuilt_if_deleted_and_private(data_dir):
    item = piece(real_pdf())
    first = previews.render(item)
    made = first.pages[0].stat().st_mtime_ns
    assert previews.render(item).pages[0].stat().st_mtime_ns == made  # reused
    folder = first.pages[0].parent
    for path in (data_dir / "apercus", folder.parent, folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    first.pages[0].unlink()
    rebuilt = previews.render(item)
    assert rebuilt.pages[0].is_file()
    previews.delete_for(item.dossier_id)
    assert not folder.parent.exists()
    assert previews.render(item).pages[0].is_file()


def test_a_replaced_file_gets_new_images_and_the_old_ones_go():
    dossier = DossierFactory()
    item = piece(real_pdf(), dossier=dossier)
    old = previews.render(item).pages[0].parent
    content = real_pdf(120)
    item.absolute_path.write_bytes(content)
    type(item).objects.filter(pk=item.pk).update(
        sha256=hashlib.sha256(content).hexdigest(), size=len(content)
    )
    item.refresh_from_db()
    new = previews.render(item)
    assert new.total == page_count(content) > 1
    assert new.pages[0].parent != old and not old.exists()


def test_the_memory_cap_applies_to_the_child_only(monkeypatch):
    before = resource.getrlimit(resource.RLIMIT_AS)
    item = piece(real_pdf())
    monkeypatch.setattr(previews, "MEMORY_BYTES", 24 * 1024 * 1024)  # too little for pdfium
    with pytest.raises(previews.PreviewUnavailable):
        previews.render(item)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    monkeypatch.undo()
    # The failure is remembered for an hour (a hostile file costs one worker, not one per view).
    with pytest.raises(previews.PreviewUnavailable):
        previews.render(item)
    for mark in previews.dossier_folder(item.dossier_id).glob("*.failed"):
        mark.touch()
        os.utime(mark, (0, time.time() - previews.FAILED_FOR_SECONDS - 1))  # an hour later
    assert previews.render(item).pages
