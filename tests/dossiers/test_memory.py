"""A 300 MB attachment is streamed to disk: memory stays flat (the one memory assertion)."""

import hashlib
import io
import tracemalloc

import requests
from requests.adapters import BaseAdapter

from dossiers.records import storage
from hubee_portal.hubee import HubEEClient, HubEEConfig

SIZE = 300 * 1024 * 1024
CHUNK = b"\x5a" * (1024 * 1024)


class GeneratedBody(io.RawIOBase):
    """300 MB produced on the fly, never held in memory."""

    def __init__(self, size: int):
        self.remaining = size

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.remaining, len(CHUNK))
        buffer[:count] = CHUNK[:count]
        self.remaining -= count
        return count


class FakeHubEE(BaseAdapter):
    def send(self, request, stream=False, **kwargs):
        response = requests.Response()
        response.request = request
        response.url = request.url
        if request.url.endswith("/token"):
            response.status_code = 200
            response._content = b'{"access_token": "t", "expires_in": 3600}'
            response._content_consumed = True  # read as a whole (the client streams it)
            response.headers["Content-Type"] = "application/json"
            return response
        response.status_code = 200
        response.headers["Content-Length"] = str(SIZE)
        response.raw = io.BufferedReader(GeneratedBody(SIZE), buffer_size=64 * 1024)
        return response

    def close(self):
        pass


def expected_sha256() -> str:
    digest = hashlib.sha256()
    for _ in range(SIZE // len(CHUNK)):
        digest.update(CHUNK)
    return digest.hexdigest()


def test_300_mb_download_stays_under_16_mb(tmp_path):
    session = requests.Session()
    session.mount("https://hubee.test/", FakeHubEE())
    config = HubEEConfig(
        token_url="https://hubee.test/token",
        api_url="https://hubee.test",
        client_id="id",
        client_secret="secret",
    )
    client = HubEEClient(config, session=session, sleep=lambda s: None)
    case_id = "0b7c3f4e-1d2a-4b5c-8d9e-0f1a2b3c4d5e"
    attachment_id = "1c8d4a5f-2e3b-4c6d-9eaf-1a2b3c4d5e6f"
    target = tmp_path / "DOSSIER" / "gros.bin"

    tracemalloc.start()
    try:
        result = storage.write_atomic(
            target,
            lambda handle: client.download_case_attachment(case_id, attachment_id, handle, SIZE),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.size == SIZE
    assert target.stat().st_size == SIZE
    assert result.sha256_hex == expected_sha256()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
