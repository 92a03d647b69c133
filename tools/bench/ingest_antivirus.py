"""Ingest before and after ClamAV (issue 19): the same cases synced by `hubee_sync` in two fresh
installs, ANTIVIRUS=off then ANTIVIRUS=clamd with a clamd of our own (tools.bench.clamd).

The sync never waits for clamd: it stores each file, then queues its scan (django-q's broker;
the worker runs it). The figures compared are the sync's durations, off and on; the scan of
every stored file is then timed apart, as the worker's periodic task runs it
(antivirus.scan_pending), and the total shown. This clamd knows test signatures only: a
production clamd, with every signature, takes longer per file, outside the sync all the same.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hubee_portal.sandbox.content import eicar_bytes
from tools.bench import clamd, harness
from tools.bench.ingest import IngestSettings
from tools.bench.install import (
    BenchmarkError,
    Install,
    Meter,
    Progress,
    emit,
    fmt_number,
    quiet,
    run_child,
    run_sync,
    throwaway_install,
)

SCAN_BATCH = 500


@dataclass(frozen=True)
class AntivirusRun:
    antivirus: str  # off | clamd
    seconds: float  # hubee_sync, process start-up included
    dossiers: int
    files: int
    load: float  # 1-minute load average when the sync started
    scan_seconds: float | None = None  # clamd: every stored file, after the sync
    verdicts: dict[str, int] = field(default_factory=dict)  # PieceJointe.scan at the end

    @property
    def rate(self) -> float:
        return self.dossiers / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class AntivirusFigures:
    settings: IngestSettings
    database: str
    off: AntivirusRun
    on: AntivirusRun

    @property
    def ratio(self) -> float:
        """The sync's duration with the antivirus on, over off (1.0: no change)."""
        return self.on.seconds / self.off.seconds if self.off.seconds > 0 else 0.0


def run_ingest_antivirus(settings: IngestSettings, progress: Progress = quiet) -> AntivirusFigures:
    if not clamd.available():
        raise BenchmarkError(clamd.INSTALL_HINT)
    off, database = _run(settings, progress, None)
    # A short folder: the socket's path must stay under about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="hubee-clamd-") as folder:
        try:
            with clamd.LocalClamd(Path(folder), {"Eicar-Test-Signature": eicar_bytes()}) as local:
                on, _ = _run(settings, progress, local.socket)
        except clamd.ClamdError as exc:
            raise BenchmarkError(str(exc)) from exc
    return AntivirusFigures(settings=settings, database=database, off=off, on=on)


def _run(
    settings: IngestSettings, progress: Progress, socket: str | None
) -> tuple[AntivirusRun, str]:
    mode = "clamd" if socket else "off"
    extra = {"ANTIVIRUS": mode, "CLAMD_SOCKET": socket or ""}
    with throwaway_install(settings.database_url, **extra) as install:
        progress(f"ANTIVIRUS={mode} : installation jetable ({install.database})")
        with harness.SandboxServer(install.env) as server:
            _prepare(install, server.url, settings)
            progress(f"  hubee_sync --concurrency {settings.concurrency}…")
            with Meter(server.process.pid, children=True) as meter:
                run_sync(install, settings.concurrency)
            progress(f"  {meter.seconds:.1f} s")
        if socket:
            progress("  analyse des fichiers en attente…")
        report = run_child(install, "ingest_antivirus", "child_scan_all()")
    run = AntivirusRun(
        antivirus=mode,
        seconds=meter.seconds,
        dossiers=report["dossiers"],
        files=report["files"],
        load=meter.load,
        scan_seconds=report["scan_seconds"],
        verdicts=report["verdicts"],
    )
    return run, install.database


def _prepare(install: Install, url: str, settings: IngestSettings) -> None:
    """The ingest benchmark's cases (tools.bench.ingest), its latencies set."""
    run_child(
        install,
        "ingest",
        f"child_prepare_ingest({url!r}, {settings.cases}, {settings.attachments}, "
        f"{settings.size}, {settings.latency_ms}, {settings.connection_ms}, {settings.seed})",
    )


def child_scan_all() -> None:
    """Scan every file waiting, as the worker's periodic task does; then count the verdicts."""
    import time

    from django.db.models import Count

    from dossiers.enums import AttachmentState
    from dossiers.models import Dossier, PieceJointe
    from dossiers.records import antivirus

    seconds = None
    if antivirus.enabled():
        started = time.monotonic()
        while antivirus.waiting_count():
            counts = antivirus.scan_pending(SCAN_BATCH)
            if counts.get("waiting"):
                raise RuntimeError("clamd ne répond pas")
            if not any(counts.get(k) for k in ("clean", "infected", "unscannable")):
                break  # unreadable files stay waiting: counted below, not looped on
        seconds = time.monotonic() - started
    verdicts = PieceJointe.objects.values_list("scan").annotate(n=Count("pk")).order_by()
    emit(
        {
            "dossiers": Dossier.objects.count(),
            "files": PieceJointe.objects.filter(state=AttachmentState.STORED).count(),
            "scan_seconds": seconds,
            "verdicts": {str(scan): n for scan, n in verdicts},
        }
    )


def format_ingest_antivirus(figures: AntivirusFigures) -> list[str]:
    s, off, on = figures.settings, figures.off, figures.on
    rows = [
        ("Synchronisation (s)", fmt_number(off.seconds, 1), fmt_number(on.seconds, 1)),
        ("Dossiers par seconde", fmt_number(off.rate), fmt_number(on.rate)),
        ("Dossiers enregistrés", str(off.dossiers), str(on.dossiers)),
        ("Fichiers enregistrés", str(off.files), str(on.files)),
        ("Verdicts", _verdicts(off), _verdicts(on)),
        ("Charge au départ (moyenne 1 min)", fmt_number(off.load), fmt_number(on.load)),
    ]
    lines = [
        f"Ingestion avant et après l'antivirus — {s.cases} dossiers × {s.attachments} "
        f"pièce(s) × {s.size} octets, latence {s.latency_ms} ms par appel + {s.connection_ms} "
        f"ms par nouvelle connexion, concurrence {s.concurrency}, base {figures.database}, "
        f"{os.cpu_count()} cœur(s)",
        f"{'':34} {'ANTIVIRUS=off':>16} {'ANTIVIRUS=clamd':>16}",
        *(f"{label:34} {a:>16} {b:>16}" for label, a, b in rows),
        f"Synchronisation avec l'antivirus / sans : {fmt_number(figures.ratio)}× (elle n'attend "
        "pas clamd : elle met l'analyse de chaque fichier en file).",
    ]
    if on.scan_seconds is not None:
        per_second = on.files / on.scan_seconds if on.scan_seconds > 0 else 0.0
        lines.append(
            f"Analyse des {on.files} fichier(s) par clamd ensuite : "
            f"{fmt_number(on.scan_seconds, 1)} s ({fmt_number(per_second, 1)} fichiers/s) ; "
            f"synchronisation et analyse : {fmt_number(on.seconds + on.scan_seconds, 1)} s."
        )
    lines.append(
        "clamd de ce banc : signatures de test seulement (un clamd de production analyse plus "
        "lentement, hors de la synchronisation) ; d'autres travaux sur la machine faussent les "
        "durées."
    )
    return lines


def _verdicts(run: AntivirusRun) -> str:
    return ", ".join(f"{scan} {n}" for scan, n in sorted(run.verdicts.items())) or "—"
