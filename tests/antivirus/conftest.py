"""A real clamd for the antivirus tests: started once per test process (xdist worker) with
only a test signature, so that it is up in well under a second.

Its database holds `.hdb` lines made by `sigtool --md5`: one from the EICAR test file, assembled
at run time by the sandbox (never committed whole: a scanner reading the repository stays
quiet), one from a readable PDF (a file agents could preview before the signatures knew it). No
`User` line: it runs as whoever runs the tests (root in CI). Under CI=true a missing clamd fails
the run; elsewhere the tests say how to install it and skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404  (clamd and sigtool, without a shell)
import time
from pathlib import Path

import pytest

from hubee_portal.sandbox.content import eicar_bytes, make_pdf
from tests.dossiers.conftest import Hubee, hubee, pdf_bytes  # noqa: F401  (fixtures)

EICAR = eicar_bytes()
SIGNATURE = "Eicar-Test-Signature"
# A real PDF, which the portal can preview, known bad to this clamd only.
HOSTILE_PDF = make_pdf("Facture", ["Montant dû : 1 200 €", "À régler sous huit jours."])
HOSTILE_SIGNATURE = "Hubee-Test-Hostile-PDF"
# Small limits, so a test file goes over them quickly (MaxFileSize and MaxScanSize stay under
# StreamMaxLength: AlertExceedsMax reports those as Heuristics.Limits.Exceeded.*).
STREAM_MAX = 1024 * 1024
FILE_MAX = 512 * 1024
SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def _binary(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH))


class Clamd:
    def __init__(self, folder: Path, binary: str) -> None:
        self.folder = folder
        self.binary = binary
        self.socket = str(folder / "clamd.sock")
        self.config = folder / "clamd.conf"
        self.process: subprocess.Popen | None = None

    def write_config(self, sigtool: str) -> None:
        database = self.folder / "db"
        database.mkdir()
        lines = []
        for name, data in ((SIGNATURE, EICAR), (HOSTILE_SIGNATURE, HOSTILE_PDF)):
            sample = self.folder / "sample"
            sample.write_bytes(data)
            line = subprocess.run(  # noqa: S603
                [sigtool, "--md5", str(sample)], capture_output=True, text=True, check=True
            ).stdout.strip()
            digest, size, _ = line.split(":", 2)
            lines.append(f"{digest}:{size}:{name}\n")
            sample.unlink()
        (database / "test.hdb").write_text("".join(lines))
        self.config.write_text(
            "Foreground yes\n"
            f"LocalSocket {self.socket}\n"
            f"DatabaseDirectory {database}\n"
            f"LogFile {self.folder / 'clamd.log'}\n"
            f"StreamMaxLength {STREAM_MAX}\n"
            f"MaxFileSize {FILE_MAX}\n"
            f"MaxScanSize {FILE_MAX}\n"
            "AlertExceedsMax yes\n"
        )

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not Path(self.socket).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "clamd.log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"clamd n'a pas démarré :\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        Path(self.socket).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def clamd(tmp_path_factory):
    binary, sigtool = _binary("clamd"), _binary("sigtool")
    if binary is None or sigtool is None:
        message = "clamd absent : apt-get install clamav-daemon (make test l'installe)."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # A short folder: a UNIX socket path is limited to about 100 bytes.
    server = Clamd(Path(tmp_path_factory.mktemp("clamd", numbered=True)), binary)
    server.write_config(sigtool)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def antivirus(clamd, settings, tmp_path):
    """The portal scanning with the test clamd, its quarantine in the test's folder."""
    if clamd.process is None:
        clamd.start()  # a test stopped it and failed before starting it again
    settings.ANTIVIRUS = "clamd"
    settings.CLAMD_SOCKET = clamd.socket
    settings.HUBEE_QUARANTINE_DIR = tmp_path / "quarantaine"
    return clamd
