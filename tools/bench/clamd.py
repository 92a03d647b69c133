"""A clamd of our own, knowing only the signatures given (`sigtool --md5` of sample files):
started in well under a second, for tests/antivirus and the ingest benchmark's antivirus run.

Its configuration: `Foreground`, a `LocalSocket` in its folder (keep the folder's path short:
a UNIX socket path is limited to about 100 bytes), the given limits with `AlertExceedsMax yes`,
and no `User` line (it runs as whoever starts it; root in CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404  (clamd and sigtool, without a shell)
import time
from collections.abc import Mapping
from pathlib import Path

SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")
INSTALL_HINT = "clamd absent : apt-get install clamav-daemon (make test l'installe)."


class ClamdError(RuntimeError):
    """clamd did not start (the message ends with its log)."""


def binary(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH))


def available() -> bool:
    return binary("clamd") is not None and binary("sigtool") is not None


class LocalClamd:
    def __init__(
        self,
        folder: Path,
        signatures: Mapping[str, bytes],
        *,
        stream_max: int = 512 * 1024 * 1024,
        file_max: int = 512 * 1024 * 1024,
    ) -> None:
        clamd, sigtool = binary("clamd"), binary("sigtool")
        if clamd is None or sigtool is None:
            raise ClamdError(INSTALL_HINT)
        self.folder = folder
        self.binary = clamd
        self.socket = str(folder / "clamd.sock")
        self.config = folder / "clamd.conf"
        self.process: subprocess.Popen | None = None
        self._write_config(sigtool, signatures, stream_max, file_max)

    def _write_config(
        self, sigtool: str, signatures: Mapping[str, bytes], stream_max: int, file_max: int
    ) -> None:
        database = self.folder / "db"
        database.mkdir()
        lines = []
        for name, data in signatures.items():
            sample = self.folder / "sample"
            sample.write_bytes(data)
            line = subprocess.run(  # noqa: S603
                [sigtool, "--md5", str(sample)], capture_output=True, text=True, check=True
            ).stdout.strip()
            sample.unlink()
            digest, size, _ = line.split(":", 2)
            lines.append(f"{digest}:{size}:{name}\n")
        (database / "test.hdb").write_text("".join(lines))
        self.config.write_text(
            "Foreground yes\n"
            f"LocalSocket {self.socket}\n"
            f"DatabaseDirectory {database}\n"
            f"LogFile {self.folder / 'clamd.log'}\n"
            f"StreamMaxLength {stream_max}\n"
            f"MaxFileSize {file_max}\n"
            f"MaxScanSize {file_max}\n"
            "AlertExceedsMax yes\n"
        )

    def start(self, timeout: float = 30) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not Path(self.socket).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "clamd.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise ClamdError(f"clamd n'a pas démarré :\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        Path(self.socket).unlink(missing_ok=True)

    def __enter__(self) -> LocalClamd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
