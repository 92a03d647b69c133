"""Memory benchmark: peak RSS of hubee_sync receiving one large file, against an idle pass."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.bench import harness
from tools.bench.ingest import OURS_CLIENT_ID, setup_subscriptions
from tools.bench.install import (
    BenchmarkError,
    Progress,
    emit,
    fmt_number,
    mark,
    quiet,
    run_child,
    throwaway_install,
)

CHUNK = 1024 * 1024
MEMORY_GROWTH_TARGET_MB = 30.0


@dataclass(frozen=True)
class MemoryFigures:
    size_mb: int
    database: str
    baseline_kib: int
    peak_kib: int
    seconds: float
    stored_size: int
    stored_sha256_ok: bool

    @property
    def growth_mb(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024

    @property
    def meets_growth(self) -> bool:
        return self.growth_mb <= MEMORY_GROWTH_TARGET_MB


def run_memory(
    size_mb: int = 300, database_url: str | None = None, progress: Progress = quiet
) -> MemoryFigures:
    """Peak RSS of hubee_sync receiving one `size_mb` attachment, over an idle run's."""
    if size_mb < 1:
        raise ValueError("size_mb must be at least 1")
    with throwaway_install(database_url) as install:
        progress(f"Installation jetable ({install.database}) dans {install.workdir}")
        with harness.SandboxServer(install.env) as server:
            run_child(install, "memory", f"child_prepare_memory({server.url!r})")
            progress("hubee_sync à vide (référence)…")
            baseline_kib, _, _ = peak_rss(install.env, "hubee_sync", "--concurrency", "1")
            progress(f"Fichier de {size_mb} Mo écrit par blocs, puis déposé…")
            big = install.workdir / "gros-fichier.bin"
            expected_sha256 = write_random_file(big, size_mb * CHUNK)
            run_child(install, "memory", f"child_deposit_big({str(big)!r})")
            big.unlink()
            progress("hubee_sync avec le gros fichier…")
            peak_kib, seconds, output = peak_rss(install.env, "hubee_sync", "--concurrency", "1")
            report = run_child(install, "memory", "child_report_memory()")
    if report["size"] != size_mb * CHUNK:
        raise BenchmarkError(f"le fichier n'a pas été reçu en entier :\n{output}")
    return MemoryFigures(
        size_mb=size_mb,
        database=install.database,
        baseline_kib=baseline_kib,
        peak_kib=peak_kib,
        seconds=seconds,
        stored_size=report["size"],
        stored_sha256_ok=report["sha256"] == expected_sha256,
    )


def peak_rss(env: dict[str, str], *args: str) -> tuple[int, float, str]:
    """Run `manage.py <args>`; its peak RSS in KiB (wait4's ru_maxrss), seconds and output."""
    with tempfile.TemporaryFile(mode="w+") as out:
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 - our interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=harness.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise BenchmarkError(f"{' '.join(args)} a échoué (code {process.returncode}) :\n{output}")
    return usage.ru_maxrss, seconds, output


def write_random_file(path: Path, size: int) -> str:
    """`size` random bytes written 1 MiB at a time (never held in memory); its SHA-256."""
    hasher = hashlib.sha256()
    with path.open("wb") as out:
        remaining = size
        while remaining > 0:
            chunk = os.urandom(min(CHUNK, remaining))
            hasher.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
    return hasher.hexdigest()


def child_prepare_memory(base_url: str) -> None:
    setup_subscriptions(base_url)


def child_deposit_big(path: str) -> None:
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Subscription

    subscription = Subscription.objects.get(client_id=OURS_CLIENT_ID)
    sandbox.deposit_case(
        subscription,
        external_id="BENCH-GROS",
        files=[("gros-fichier.bin", "document", "application/octet-stream", path)],
    )


def child_report_memory() -> None:
    from dossiers.enums import AttachmentState
    from dossiers.models import PieceJointe

    piece = PieceJointe.objects.filter(state=AttachmentState.STORED).first()
    if piece is None:
        emit({"size": 0, "sha256": ""})
        return
    emit({"size": piece.absolute_path.stat().st_size, "sha256": piece.sha256})


def format_memory(figures: MemoryFigures) -> list[str]:
    return [
        f"Mémoire — une pièce jointe de {figures.size_mb} Mo, base {figures.database}",
        f"Pic RSS de hubee_sync : {fmt_number(figures.peak_kib / 1024, 1)} Mo "
        f"({fmt_number(figures.seconds, 1)} s)",
        f"Référence (hubee_sync à vide) : {fmt_number(figures.baseline_kib / 1024, 1)} Mo",
        f"Croissance : {fmt_number(figures.growth_mb, 1)} Mo (cible ≤ "
        f"{MEMORY_GROWTH_TARGET_MB:g} Mo) {mark(figures.meets_growth)}",
        f"Fichier reçu : {figures.stored_size} octets, empreinte "
        f"{'identique' if figures.stored_sha256_ok else 'DIFFÉRENTE'}.",
    ]
