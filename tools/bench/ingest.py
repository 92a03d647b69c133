"""Ingest benchmark (issue 6): our sync against the official script's pattern, on a real server.

Each benchmark builds a throw-away install in a temporary folder (an SQLite file, or a
dedicated PostgreSQL database created and dropped on the server of a given URL), serves the
sandbox from another process (`harness.SandboxServer`) and runs `manage.py hubee_sync` as a
child process. Counts come from the sandbox's call log, never from the client's own counters.

The functions whose name starts with `child_` run inside those child processes (through
`harness.python`); the others orchestrate them and return figures as dataclasses. Nothing here
asserts a time: the command prints the figures next to the targets.
"""

from __future__ import annotations

import math
import os
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubee_portal.hubee import API_PREFIX
from tools.bench import harness, official_pattern
from tools.bench.install import (
    BenchmarkError,
    Meter,
    Progress,
    emit,
    fmt_number,
    in_process_seconds,
    mark,
    per,
    percent,
    quiet,
    run_child,
    run_sync,
    throwaway_install,
)

OURS_CLIENT_ID = "bench-portail"
OFFICIAL_CLIENT_ID = "bench-script-officiel"
CLIENT_SECRET = "bench-secret"  # noqa: S105 - a throw-away sandbox subscription
PROCESS_CODE = "EtatCivil"
BATCH_SIZE = 25
SPEEDUP_TARGET = 10.0
BOUND_TARGET = 0.80
LIST_ROUTE = f"GET {API_PREFIX}/notifications"
TOKEN_ROUTE = "POST /oauth2/token"  # noqa: S105 - a route, not a secret
CASE_ROUTE = f"GET {API_PREFIX}/cases/{{caseId}}"
DOWNLOAD_ROUTE = f"GET {API_PREFIX}/cases/{{caseId}}/attachments/{{attachmentId}}"
EVENT_ROUTE = f"POST {API_PREFIX}/cases/{{caseId}}/events"
DELETE_ROUTE = f"DELETE {API_PREFIX}/notifications/{{notificationId}}"


@dataclass(frozen=True)
class IngestSettings:
    cases: int = 500
    attachments: int = 3
    size: int = 200_000
    latency_ms: int = 50
    connection_ms: int = 100
    concurrency: int = 4
    database_url: str | None = None
    seed: int = 6

    def __post_init__(self) -> None:
        if self.cases < 1 or self.attachments < 1 or self.concurrency < 1:
            raise ValueError("cases, attachments and concurrency must be at least 1")
        if self.size < 0 or self.latency_ms < 0 or self.connection_ms < 0:
            raise ValueError("size and latencies cannot be negative")


@dataclass(frozen=True)
class PatternFigures:
    """One client's run, as the sandbox logged it."""

    label: str
    seconds: float
    dossiers: int
    calls: int
    new_connections: int
    status_pushes: int
    server_errors: int
    by_route: dict[str, int] = field(default_factory=dict)
    # Medians from the log: time inside the sandbox's view (latency included), and the time
    # between two calls of one kept-alive connection (client work, network, the server's HTTP
    # parsing and log write). None without such pairs (a connection per call).
    server_ms: float | None = None
    gap_ms: float | None = None
    # CPU seconds over the run: the client's (hubee_sync, or the replay) and the sandbox's.
    client_cpu_s: float | None = None
    server_cpu_s: float | None = None
    load: float = 0.0  # 1-minute load average when the run started

    @property
    def rate(self) -> float:
        return self.dossiers / self.seconds if self.seconds > 0 else 0.0

    @property
    def calls_per_dossier(self) -> float:
        return self.calls / self.dossiers if self.dossiers else 0.0

    @property
    def connections_per_dossier(self) -> float:
        return self.new_connections / self.dossiers if self.dossiers else 0.0

    def route(self, route: str) -> int:
        return self.by_route.get(route, 0)


@dataclass(frozen=True)
class IngestFigures:
    settings: IngestSettings
    database: str
    ours: PatternFigures
    official: PatternFigures
    # hubee_sync's own "Terminé en X s" (without the process start-up), for information.
    ours_in_process_seconds: float | None
    stored_dossiers: int
    stored_files: int
    file_mismatches: int
    ours_pending: int
    official_pending: int
    official_files_on_disk: int

    @property
    def bound_seconds(self) -> float:
        """N·(3+a)·r/k: the calls a new case needs, at the per-call latency, k at a time."""
        s = self.settings
        return s.cases * (3 + s.attachments) * (s.latency_ms / 1000) / s.concurrency

    @property
    def bound_ratio(self) -> float:
        return self.bound_seconds / self.ours.seconds if self.ours.seconds > 0 else 0.0

    @property
    def speedup(self) -> float:
        return self.official.seconds / self.ours.seconds if self.ours.seconds > 0 else 0.0

    @property
    def meets_speedup(self) -> bool:
        return self.speedup >= SPEEDUP_TARGET

    @property
    def meets_bound(self) -> bool:
        return self.bound_ratio >= BOUND_TARGET


def run_ingest(settings: IngestSettings, progress: Progress = quiet) -> IngestFigures:
    """Our sync, then the official script's pattern, on the same sandbox and the same cases."""
    with throwaway_install(settings.database_url) as install:
        progress(f"Installation jetable ({install.database}) dans {install.workdir}")
        with harness.SandboxServer(install.env) as server:
            progress(
                f"Dépôt de 2 × {settings.cases} télédossiers de {settings.attachments} pièce(s) "
                f"de {settings.size} octets"
            )
            run_child(
                install,
                "ingest",
                f"child_prepare_ingest({server.url!r}, {settings.cases}, {settings.attachments}, "
                f"{settings.size}, {settings.latency_ms}, {settings.connection_ms}, "
                f"{settings.seed})",
            )
            progress(f"hubee_sync --concurrency {settings.concurrency}…")
            with Meter(server.process.pid, children=True) as ours_meter:
                result = run_sync(install, settings.concurrency)
            progress(f"  {ours_meter.seconds:.1f} s")
            per_call = (settings.latency_ms + settings.connection_ms) / 1000
            estimate = settings.cases * (4 + settings.attachments) * per_call
            progress(f"Motif du script officiel (environ {estimate / 60:.1f} min)…")
            download_dir = install.workdir / "script-officiel"
            config = official_pattern.OfficialConfig(
                token_url=f"{server.url}/sandbox/oauth2/token",
                api_url=f"{server.url}/sandbox",
                client_id=OFFICIAL_CLIENT_ID,
                client_secret=CLIENT_SECRET,
                download_dir=download_dir,
            )
            try:
                with Meter(server.process.pid, children=False) as official_meter:
                    replay = official_pattern.run(config)
            except official_pattern.OfficialPatternError as exc:
                raise BenchmarkError(f"le motif du script officiel a échoué : {exc}") from exc
            progress(f"  {official_meter.seconds:.1f} s")
            report = run_child(install, "ingest", "child_report_ingest()")
        files_on_disk = sum(1 for p in download_dir.rglob("*") if p.is_file())
    return IngestFigures(
        settings=settings,
        database=install.database,
        ours=PatternFigures(
            label="portail",
            seconds=ours_meter.seconds,
            dossiers=report["stored_dossiers"],
            client_cpu_s=ours_meter.client_cpu,
            server_cpu_s=ours_meter.server_cpu,
            load=ours_meter.load,
            **report["ours"],
        ),
        official=PatternFigures(
            label="script officiel",
            seconds=official_meter.seconds,
            dossiers=replay.cases,
            client_cpu_s=official_meter.client_cpu,
            server_cpu_s=official_meter.server_cpu,
            load=official_meter.load,
            **report["official"],
        ),
        ours_in_process_seconds=in_process_seconds(result.stdout),
        stored_dossiers=report["stored_dossiers"],
        stored_files=report["stored_files"],
        file_mismatches=report["file_mismatches"],
        ours_pending=report["ours_pending"],
        official_pending=report["official_pending"],
        official_files_on_disk=files_on_disk,
    )


def child_prepare_ingest(
    base_url: str,
    cases: int,
    attachments: int,
    size: int,
    latency_ms: int,
    connection_ms: int,
    seed: int,
) -> None:
    """Our démarche and two sandbox subscriptions holding the same cases; then the latency."""
    from django.db import transaction

    from hubee_portal.sandbox import services as sandbox

    ours_sub, official_sub = setup_subscriptions(base_url)
    rng = random.Random(seed)  # noqa: S311 - test data
    width = len(str(cases))
    for number in range(1, cases + 1):
        files = [
            (f"piece-{index}.bin", "document", "application/octet-stream", rng.randbytes(size))
            for index in range(1, attachments + 1)
        ]
        external_id = f"BENCH-{number:0{width}d}"
        with transaction.atomic():
            for subscription in (ours_sub, official_sub):
                sandbox.deposit_case(subscription, external_id=external_id, files=files)
    sandbox.set_faults(latency_ms=latency_ms, connection_latency_ms=connection_ms)
    sandbox.clear_call_log()


def setup_subscriptions(base_url: str):
    from django.conf import settings

    from demarches.models import Demarche, HubEEConnection, Organisation
    from hubee_portal.sandbox import services as sandbox

    organisation = Organisation.objects.create(name="Commune du banc", siret="21060088800015")
    connection = HubEEConnection.objects.create(
        name="Bac à sable (banc)",
        environment="autre",
        token_url=f"{base_url}/sandbox/oauth2/token",
        api_url=f"{base_url}/sandbox",
        batch_size=BATCH_SIZE,
    )
    demarche = Demarche(
        name="Banc d'essai",
        process_code=PROCESS_CODE,
        organisation=organisation,
        connection=connection,
        client_id=OURS_CLIENT_ID,
        download_folder=str(Path(settings.DATA_DIR) / "telechargements" / "banc"),
        # One status push per case, as the bound N·(3+a)·r/k counts (GET, a files, POST, DELETE).
        automatic_status="IN_PROGRESS",
        automatic_final_status="",
        enabled=True,
    )
    demarche.client_secret = CLIENT_SECRET
    demarche.full_clean()
    demarche.save()
    # The official script puts a message in its status events: the démarche must allow them.
    rules = {"allows_messages": True}
    ours = sandbox.create_subscription(PROCESS_CODE, OURS_CLIENT_ID, CLIENT_SECRET, **rules)
    official = sandbox.create_subscription(PROCESS_CODE, OFFICIAL_CLIENT_ID, CLIENT_SECRET, **rules)
    return ours, official


def _log_counts(client_id: str) -> dict[str, Any]:
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.enums import ActionType, Party
    from hubee_portal.sandbox.models import CallLog, Event

    counts = sandbox.call_counts(client_id=client_id)
    rows = CallLog.objects.filter(client_id=client_id).order_by("time", "id")
    durations, gaps, last_end = [], [], {}
    for connection_id, end, duration_ms in rows.values_list("connection_id", "time", "duration_ms"):
        durations.append(duration_ms)
        start = end.timestamp() * 1000 - duration_ms
        if connection_id in last_end:
            gaps.append(start - last_end[connection_id])
        last_end[connection_id] = end.timestamp() * 1000
    return {
        "server_ms": statistics.median(durations) if durations else None,
        "gap_ms": statistics.median(gaps) if gaps else None,
        "calls": counts.calls,
        "new_connections": counts.new_connections,
        "server_errors": counts.server_errors,
        "by_route": counts.by_route,
        "status_pushes": Event.objects.filter(
            case__subscription__client_id=client_id,
            transmitter_type=Party.SI,
            action_type=ActionType.STATUS_UPDATE,
        ).count(),
    }


def child_report_ingest() -> None:
    from dossiers.enums import AttachmentState
    from dossiers.models import Dossier, PieceJointe
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Attachment, Subscription

    stored = PieceJointe.objects.filter(state=AttachmentState.STORED)
    sent = Attachment.objects.filter(case__subscription__client_id=OURS_CLIENT_ID)
    expected = {row[0]: row[1:] for row in sent.values_list("id", "sha256", "size")}
    got = {row[0]: row[1:] for row in stored.values_list("hubee_attachment_id", "sha256", "size")}
    # Missing, different or extra files: each one counts.
    mismatches = sum(1 for key, value in expected.items() if got.get(key) != value)
    mismatches += len(set(got) - set(expected))
    pending = {s.client_id: sandbox.pending_si_notifications(s) for s in Subscription.objects.all()}
    emit(
        {
            "ours": _log_counts(OURS_CLIENT_ID),
            "official": _log_counts(OFFICIAL_CLIENT_ID),
            "stored_dossiers": Dossier.objects.count(),
            "stored_files": stored.count(),
            "file_mismatches": mismatches,
            "ours_pending": pending[OURS_CLIENT_ID],
            "official_pending": pending[OFFICIAL_CLIENT_ID],
        }
    )


def format_ingest(figures: IngestFigures) -> list[str]:
    s = figures.settings
    ours, official = figures.ours, figures.official
    rows = [
        ("Durée (s)", fmt_number(ours.seconds, 1), fmt_number(official.seconds, 1)),
        ("Dossiers par seconde", fmt_number(ours.rate), fmt_number(official.rate)),
        ("Appels à l'API par dossier", fmt_number(ours.calls_per_dossier),
         fmt_number(official.calls_per_dossier)),
        ("Nouvelles connexions par dossier", fmt_number(ours.connections_per_dossier),
         fmt_number(official.connections_per_dossier)),
        ("Statuts poussés par dossier", fmt_number(ours.status_pushes / max(ours.dossiers, 1)),
         fmt_number(official.status_pushes / max(official.dossiers, 1))),
        ("Appels (total, journal du bac à sable)", str(ours.calls), str(official.calls)),
        ("Nouvelles connexions (total)", str(ours.new_connections),
         str(official.new_connections)),
        ("Erreurs 5xx", str(ours.server_errors), str(official.server_errors)),
        ("CPU du client par dossier (ms)*", per(ours.client_cpu_s, ours.dossiers),
         per(official.client_cpu_s, official.dossiers)),
        ("CPU du bac à sable par appel (ms)", per(ours.server_cpu_s, ours.calls),
         per(official.server_cpu_s, official.calls)),
    ]  # fmt: skip
    lines = [
        f"Débit d'ingestion — {s.cases} dossiers × {s.attachments} pièce(s) × {s.size} octets, "
        f"latence {s.latency_ms} ms par appel + {s.connection_ms} ms par nouvelle connexion, "
        f"concurrence {s.concurrency}, base {figures.database}, {os.cpu_count()} cœur(s)",
        f"{'':40} {'portail':>12} {'script officiel':>16}",
        *(f"{label:40} {a:>12} {b:>16}" for label, a, b in rows),
    ]
    for pattern in (ours, official):
        if pattern.server_ms is None:
            continue
        latency = f"{s.latency_ms} ms de latence"
        if pattern.new_connections == pattern.calls:
            latency = f"{s.latency_ms} + {s.connection_ms} ms de latence, connexion neuve"
        line = (
            f"Par appel, {pattern.label} (médianes du journal) : "
            f"{fmt_number(pattern.server_ms, 1)} "
            f"ms dans le bac à sable (dont {latency}"
        )
        if pattern.gap_ms is None:
            line += ")."
        else:
            line += (
                f"), {fmt_number(pattern.gap_ms, 1)} ms entre deux appels d'une même connexion "
                "(travail du client, réseau, analyse HTTP et journal du bac à sable)."
            )
        lines.append(line)
    lines.append("* démarrage du processus compris (environ 1 s de CPU pour Django).")
    if figures.ours_in_process_seconds is not None:
        lines.append(
            f"Portail : {fmt_number(figures.ours_in_process_seconds, 1)} s mesurées par hubee_sync "
            "lui-même (sans le démarrage du processus)."
        )
    bound = figures.bound_seconds
    lines += [
        f"Borne de latence N·(3+a)·r/k = {s.cases}·{3 + s.attachments}·"
        f"{s.latency_ms / 1000:g}/{s.concurrency} = {fmt_number(bound, 1)} s ; portail à "
        f"{percent(figures.bound_ratio)} de la borne (cible ≥ {percent(BOUND_TARGET)}) "
        f"{mark(figures.meets_bound)}",
        f"Script officiel / portail : {fmt_number(figures.speedup, 1)}× (cible ≥ "
        f"{SPEEDUP_TARGET:g}×) {mark(figures.meets_speedup)}",
        f"Vérifications : {figures.stored_dossiers} dossier(s) et {figures.stored_files} "
        f"fichier(s) enregistrés, {figures.file_mismatches} empreinte(s) différente(s), "
        f"{figures.ours_pending} + {figures.official_pending} notification(s) restante(s), "
        f"{figures.official_files_on_disk} fichier(s) écrits par le script officiel.",
        f"Charge de la machine (moyenne 1 min) au départ : portail {fmt_number(ours.load)}, "
        f"script officiel {fmt_number(official.load)} (d'autres travaux faussent les durées).",
    ]
    return lines


def expected_list_calls(cases: int, batch_size: int = BATCH_SIZE) -> int:
    """Listings a complete pass needs: one per full or partial batch, plus the empty one."""
    return math.ceil(cases / batch_size) + 1
