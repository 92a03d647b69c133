"""The child process that decodes an untrusted file for a preview (dossiers.records.previews).

Run as `python -m dossiers.records.preview_worker KIND SOURCE FOLDER MAX_PAGES MAX_PX DPI
MEMORY`. It caps its own address space first, before pypdfium2 or Pillow is imported, so a
hostile file can exhaust neither the portal's memory nor its time (the parent kills it at the
wall limit). It writes `page-001.png`… (PDF) or `page-001.jpg|png` (image) into FOLDER and prints
one JSON line: {"pages": written, "total": pages in the file} or {"error": "ExceptionName"}.
Nothing of the file's content is printed. No Django here: it starts fast and touches no database.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import warnings
from pathlib import Path

# Megapixels accepted in an image: a 600 dpi A4 scan is about 35.
MAX_IMAGE_PIXELS = 50_000_000


# Largest image file the child may write: a 2,000×2,000 PNG of noise is about 12 MB.
MAX_FILE_BYTES = 32 * 1024 * 1024


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # And the disk: no single file beyond MAX_FILE_BYTES (20 pages at most: 640 MB a piece).
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))


def render_pdf(source: Path, folder: Path, max_pages: int, max_px: int, dpi: int) -> dict:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        total = len(document)
        if total < 1:
            raise ValueError("empty")
        written = 0
        for index in range(min(total, max_pages)):
            page = document[index]
            try:
                width, height = page.get_size()  # in points (1/72 inch)
                if width <= 0 or height <= 0:
                    raise ValueError("page size")
                scale = min(dpi / 72, max_px / width, max_px / height)
                bitmap = page.render(scale=scale)
                image = bitmap.to_pil()
                image.save(folder / f"page-{index + 1:03d}.png", "PNG")
                written += 1
            finally:
                page.close()
    finally:
        document.close()
    return {"pages": written, "total": total}


def render_image(source: Path, folder: Path, kind: str, max_px: int) -> dict:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    # Above the cap Pillow only warns (it raises above twice the cap): both refuse the file.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    fmt = "JPEG" if kind == "jpeg" else "PNG"
    with Image.open(source, formats=[fmt]) as opened:
        opened.load()
        image = ImageOps.exif_transpose(opened)
    image.thumbnail((max_px, max_px))
    # A new image from the pixels only: no EXIF, XMP, ICC, text chunk or comment goes out.
    mode = "RGB" if fmt == "JPEG" else ("RGBA" if "A" in image.getbands() else "RGB")
    clean = Image.new(mode, image.size)
    clean.paste(image.convert(mode))
    name = folder / ("page-001.jpg" if fmt == "JPEG" else "page-001.png")
    if fmt == "JPEG":
        clean.save(name, "JPEG", quality=85)
    else:
        clean.save(name, "PNG")
    return {"pages": 1, "total": 1}


def main(argv: list[str]) -> int:
    kind, source, folder, max_pages, max_px, dpi, memory = argv
    _limit_memory(int(memory))
    os.umask(0o077)  # the images are as private as the file
    try:
        if kind == "pdf":
            result = render_pdf(Path(source), Path(folder), int(max_pages), int(max_px), int(dpi))
        elif kind in ("jpeg", "png"):
            result = render_image(Path(source), Path(folder), kind, int(max_px))
        else:
            result = {"error": "UnknownKind"}
    except Exception as exc:  # any failure, warnings included: no preview
        result = {"error": type(exc).__name__}
    sys.stdout.write(json.dumps(result) + "\n")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
