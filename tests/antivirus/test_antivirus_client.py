"""The clamd client without clamd: its answers, its streaming, and the settings around it."""

from __future__ import annotations

import socket
import struct
import subprocess  # noqa: S404  (make -n)
import threading
import tracemalloc
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

from dossiers.enums import ScanState
from dossiers.models.received import initial_scan
from dossiers.records.antivirus_client import ScannerUnavailable, Verdict, parse, scan_file
from tests.portal.test_settings import production_env, run


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("stream: OK", Verdict("clean")),
        ("stream: Win.Test.EICAR_HDB-1 FOUND", Verdict("infected", "Win.Test.EICAR_HDB-1")),
        (
            "stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND",
            Verdict("unscannable", "Heuristics.Limits.Exceeded.MaxScanSize"),
        ),
        ("INSTREAM size limit exceeded. ERROR", Verdict("unscannable", "StreamMaxLength")),
    ],
)
def test_answers(answer, verdict):
    assert parse(answer) == verdict


@pytest.mark.parametrize("answer", ["", "UNKNOWN COMMAND", "stream: lstat() failed ERROR"])
def test_an_answer_we_do_not_understand_is_an_unavailable_scanner(answer):
    with pytest.raises(ScannerUnavailable):
        parse(answer)


def test_no_socket_is_an_unavailable_scanner(tmp_path):
    sample = tmp_path / "f.pdf"
    sample.write_bytes(b"%PDF-1.4")
    with pytest.raises(ScannerUnavailable, match="injoignable"):
        scan_file(sample, str(tmp_path / "absent.sock"))


def test_the_file_is_streamed_in_chunks_never_read_whole(tmp_path):
    size = 8 * 1024 * 1024
    sample = tmp_path / "big.bin"
    with open(sample, "wb") as handle:
        handle.truncate(size)
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received = {}

    def serve():
        connection, _ = server.accept()
        with connection, connection.makefile("rb") as stream:
            received["command"] = stream.read(10)
            total, chunks = 0, 0
            while length := struct.unpack("!L", stream.read(4))[0]:
                stream.read(length)
                total, chunks = total + length, chunks + 1
            received["bytes"], received["chunks"] = total, chunks
            connection.sendall(b"stream: OK\0")

    thread = threading.Thread(target=serve)
    thread.start()
    tracemalloc.start()
    try:
        verdict = scan_file(sample, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        thread.join(5)
        server.close()
    assert verdict == Verdict("clean")
    assert received == {"command": b"zINSTREAM\0", "bytes": size, "chunks": size // 65536}
    assert peak < 1024 * 1024


def test_new_files_wait_for_the_antivirus_only_when_it_is_on():
    with override_settings(ANTIVIRUS="clamd"):
        assert initial_scan() == ScanState.PENDING
    with override_settings(ANTIVIRUS="off"):
        assert initial_scan() == ScanState.OFF


def ours(messages):
    return {m.id for m in messages if m.id.startswith("hubee_portal.W01")}


@pytest.mark.django_db
def test_check_deploy_warns_when_the_antivirus_is_off(settings, tmp_path):
    settings.HUBEE_DOWNLOAD_ROOT = tmp_path / "telechargements"
    settings.HUBEE_QUARANTINE_DIR = tmp_path / "quarantaine"
    settings.ANTIVIRUS = "clamd"
    assert ours(checks.run_checks(include_deployment_checks=True, tags=["security"])) == set()
    settings.ANTIVIRUS = "off"
    settings.HUBEE_QUARANTINE_DIR = tmp_path / "telechargements" / "quarantaine"
    found = ours(checks.run_checks(include_deployment_checks=True, tags=["security"]))
    assert found == {"hubee_portal.W010", "hubee_portal.W011"}


def test_production_says_which_and_development_scans_only_with_a_socket(tmp_path):
    code = "from django.conf import settings; print(settings.ANTIVIRUS, settings.CLAMD_SOCKET)"
    unset = {"ANTIVIRUS": "", "CLAMD_SOCKET": ""}  # whatever the developer's shell exports
    production = run(code, production_env(tmp_path, **{**unset, "ANTIVIRUS": "clamd"}))
    assert production.stdout.split() == ["clamd", "/run/clamav/clamd.ctl"], production.stderr
    # Unset: no silent default (tests/portal/test_settings.py reads the message).
    assert run(code, production_env(tmp_path, **unset)).returncode != 0
    development = {
        "DEBUG": "true",
        "DATA_DIR": str(tmp_path),
        "ENV_FILE": str(tmp_path / "x"),
        **unset,
    }
    assert run(code, development).stdout.split()[0] == "off"
    socket_set = run(code, {**development, "CLAMD_SOCKET": "/tmp/c.sock"})
    assert socket_set.stdout.split() == ["clamd", "/tmp/c.sock"]
    wrong = run(code, production_env(tmp_path, ANTIVIRUS="clamav"))
    assert wrong.returncode != 0
    assert "ANTIVIRUS vaut clamd" in wrong.stderr


def test_make_test_installs_clamd_when_missing():
    dry_run = subprocess.run(
        ["make", "-n", "test", "PY=python", "STAMP=", "VENV=.venv"],  # noqa: S607
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "apt-get install -y -qq clamav-daemon" in dry_run.stdout
    assert dry_run.stdout.index("clamav-daemon") < dry_run.stdout.index("-m pytest")
