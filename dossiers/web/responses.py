"""Files go out as downloads only: never rendered by the browser, never sniffed."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponseBase

ATTACHMENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Even if a browser rendered it, the file could run nothing and load nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(
        char if 32 <= ord(char) < 127 and char not in '"\\;' else "_" for char in filename
    )
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'fichier'}\"; filename*=UTF-8''{encoded}"


def as_download(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Type"] = "application/octet-stream"
    response["Content-Disposition"] = content_disposition(filename)
    for name, value in ATTACHMENT_HEADERS.items():
        response[name] = value
    return response
