"""Fleet benchmark (issue 22): the figures of a run, computed from what the probe, the
deposit process and the sandbox's call log recorded, and their French report.

Everything is measured over the steady window (after the warm-up); correctness counts every
deposit of the run, warm-up included. Nothing here asserts a figure: the report prints each
one next to the issue's target with ✓ or ✗.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.bench.fleet_probe import Watch
from tools.bench.install import fmt_number, mark, percent

TOKEN_LIFETIME_S = 3600  # the sandbox's default (FaultSettings.token_lifetime)
LIST_TARGET = 1.0  # listing calls per idle démarche-minute
TOKEN_TARGET = 3600 / TOKEN_LIFETIME_S  # token requests per démarche-hour
CORE_TARGET = 0.50  # share of one core per 1,000 démarches, the portal's own processes
FRESHNESS_TARGET_S = 90.0  # p95
SANDBOX_BUSY = 0.90  # share of one core: the threaded sandbox server is then the limit


@dataclass(frozen=True)
class FleetFigures:
    settings: Any  # FleetSettings (not imported: fleet imports this module)
    window_s: float
    deposits: int  # over the whole run
    deposits_in_window: int
    # HubEE's side (the sandbox's call log, over the window)
    calls: int
    by_route: dict[str, int]
    server_errors: int
    token_requests: int
    idle_demarche_minutes: int
    idle_list_calls: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    # CPU seconds over the window
    cluster_cpu_s: float
    portal_pg_cpu_s: float  # backends of the portal's database seen by a sample
    unattributed_pg_cpu_s: float  # backends of less than 0.1 s, any database
    server_pg_cpu_s: float  # the whole PostgreSQL server
    sandbox_cpu_s: float | None
    portal_backends: int
    peak_connections: int
    # django-q
    tasks_done: int
    tasks_by_func: dict[str, int]
    queue_start: int
    queue_end: int
    queue_max: int
    # freshness, over the deposits of the window
    freshness_s: list[float]
    unseen_in_window: int
    # correctness (sandbox side, every deposit of the run)
    correctness: dict[str, Any]
    drained: bool
    killed_at: float | None
    stopped_badly: list[int] = field(default_factory=list)
    cluster_logs: list[str] = field(default_factory=list)
    probe_errors: list[str] = field(default_factory=list)
    load: float = 0.0
    cluster_cpu_each_s: tuple[float, ...] = ()  # one per cluster, killed ones included

    @property
    def minutes(self) -> float:
        return self.window_s / 60

    @property
    def demarche_minutes(self) -> float:
        return self.settings.demarches * self.minutes

    @property
    def requests_per_second(self) -> float:
        return self.calls / self.window_s if self.window_s else 0.0

    @property
    def lists_per_idle_minute(self) -> float | None:
        if not self.idle_demarche_minutes:
            return None
        return self.idle_list_calls / self.idle_demarche_minutes

    @property
    def tokens_per_demarche_hour(self) -> float:
        hours = self.settings.demarches * self.window_s / 3600
        return self.token_requests / hours if hours else 0.0

    @property
    def portal_cpu_low_s(self) -> float:
        """The clusters and the sampled backends of the portal's database (lower bound)."""
        return self.cluster_cpu_s + self.portal_pg_cpu_s

    @property
    def portal_cpu_s(self) -> float:
        """The portal's own processes: the clusters and the backends serving its database
        (upper bound: the short-lived backends of every database counted as the portal's)."""
        return self.cluster_cpu_s + self.portal_pg_cpu_s + self.unattributed_pg_cpu_s

    def core_share_per_1000(self, cpu_s: float) -> float:
        return cpu_s / self.window_s / self.settings.demarches * 1000 if self.window_s else 0.0

    @property
    def sandbox_share(self) -> float | None:
        if self.sandbox_cpu_s is None or not self.window_s:
            return None
        return self.sandbox_cpu_s / self.window_s

    @property
    def sandbox_was_limit(self) -> bool:
        """Busy for a threaded Python server, or its median answer well above the set
        latency (twice it, plus 50 ms)."""
        share = self.sandbox_share or 0.0
        slow = self.latency_p50_ms is not None and (
            self.latency_p50_ms > 2 * self.settings.latency_ms + 50
        )
        return share >= SANDBOX_BUSY or slow

    @property
    def queue_grows(self) -> bool:
        return self.queue_end > self.queue_start + max(10, self.settings.demarches // 10)

    def freshness(self, q: float) -> float | None:
        return percentile(self.freshness_s, q)

    @property
    def missing(self) -> int:
        c = self.correctness
        return len(c["missing"]) + len(c["unpushed"])

    @property
    def doubled(self) -> int:
        c = self.correctness
        return len(c["extra"]) + len(c["doubled_files"]) + len(c["pushed_twice"])

    @property
    def altered(self) -> int:
        return len(self.correctness["altered"])


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def idle_minutes(
    demarches: list[str], deposits: list[dict], start: float, minutes: int
) -> set[tuple[str, int]]:
    """(client id, minute) pairs of the window with no deposit for that démarche in that
    minute or the one before: a poll then has nothing new to find."""
    busy = set()
    for deposit in deposits:
        minute = math.floor((deposit["at"] - start) / 60)
        busy |= {(deposit["client"], minute), (deposit["client"], minute + 1)}
    return {(d, m) for d in demarches for m in range(minutes) if (d, m) not in busy}


def _at(samples: list, moment: float):
    """The first sample at or after `moment` (the last one if none)."""
    return next((s for s in samples if s.at >= moment), samples[-1])


def compute_figures(
    *,
    settings: Any,
    window: tuple[float, float],
    watch: Watch,
    deposits: list[dict],
    calls: dict[str, Any],
    correctness: dict[str, Any],
    drained: bool,
    killed_at: float | None,
    stopped_badly: list[int],
    cluster_logs: list[str],
    load: float,
) -> FleetFigures:
    from tools.bench.fleet_child import client_id

    start, end = window
    samples = watch.samples
    if not samples:
        raise RuntimeError(f"aucune mesure de la sonde : {watch.errors[:3]}")
    first, last = _at(samples, start), _at(samples, end)
    inside = [s for s in samples if first.at <= s.at <= last.at] or [last]
    window_s = max(last.at - first.at, 1.0)
    whole_minutes = max(1, math.floor((end - start) / 60))
    demarches = [client_id(n) for n in range(settings.demarches)]
    idle = idle_minutes(demarches, deposits, start, whole_minutes)
    idle_lists = sum(
        1
        for cid, at in calls["lists"]
        if at < start + whole_minutes * 60 and (cid, math.floor((at - start) / 60)) in idle
    )
    in_window = [d for d in deposits if start <= d["at"] < end]
    freshness = [watch.seen[d["case"]] - d["at"] for d in in_window if d["case"] in watch.seen]
    done = [(func, stopped) for func, stopped in watch.tasks.values() if start <= stopped < end]
    durations = calls["durations"]
    sandbox_cpu = None
    if first.sandbox_cpu is not None and last.sandbox_cpu is not None:
        sandbox_cpu = last.sandbox_cpu - first.sandbox_cpu
    return FleetFigures(
        settings=settings,
        window_s=window_s,
        deposits=len(deposits),
        deposits_in_window=len(in_window),
        calls=calls["calls"],
        by_route=calls["by_route"],
        server_errors=calls["server_errors"],
        token_requests=calls["tokens"],
        idle_demarche_minutes=len(idle),
        idle_list_calls=idle_lists,
        latency_p50_ms=percentile(durations, 0.50),
        latency_p95_ms=percentile(durations, 0.95),
        cluster_cpu_s=last.cluster_cpu - first.cluster_cpu,
        cluster_cpu_each_s=tuple(
            b - a for a, b in zip(first.cluster_cpu_each, last.cluster_cpu_each, strict=True)
        ),
        portal_pg_cpu_s=last.portal_pg_cpu - first.portal_pg_cpu,
        unattributed_pg_cpu_s=last.unattributed_pg_cpu - first.unattributed_pg_cpu,
        server_pg_cpu_s=last.server_pg_cpu - first.server_pg_cpu,
        sandbox_cpu_s=sandbox_cpu,
        portal_backends=watch.portal_backends,
        peak_connections=max(s.connections for s in inside),
        tasks_done=len(done),
        tasks_by_func=dict(Counter(func.rsplit(".", 1)[-1] for func, _ in done)),
        queue_start=first.queue,
        queue_end=last.queue,
        queue_max=max(s.queue for s in inside),
        freshness_s=freshness,
        unseen_in_window=len(in_window) - len(freshness),
        correctness=correctness,
        drained=drained,
        killed_at=killed_at,
        stopped_badly=stopped_badly,
        cluster_logs=cluster_logs,
        probe_errors=watch.errors[:5],
        load=load,
    )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{fmt_number(value, 1)} s"


def format_fleet(f: FleetFigures) -> list[str]:
    s = f.settings
    label = " — essai court" if s.short else ""
    mode = (
        f"sondage adaptatif après {s.idle_after} min" if s.idle_after else "sondage adaptatif coupé"
    )
    lines = [
        f"Flotte{label} : {s.demarches} démarches ({math.ceil(s.demarches / 4)} organisations), "
        f"{s.clusters} cluster(s) × {s.workers} worker(s), broker {s.broker}, {mode}, "
        f"latence {s.latency_ms} ms par appel, {fmt_number(s.rate, 1)} dépôt(s) par minute, "
        f"{os.cpu_count()} cœur(s), charge au départ {fmt_number(f.load)}",
        f"Fenêtre mesurée : {fmt_number(f.minutes, 1)} min après {fmt_number(s.warmup, 1)} min "
        f"de chauffe ; {f.deposits_in_window} dépôt(s) dans la fenêtre, {f.deposits} en tout.",
    ]
    if f.killed_at is not None:
        lines.append(
            f"Cluster 1 tué (SIGKILL à tout son groupe) à {f.killed_at:.0f} s ; les "
            "dépôts ont continué."
        )
    lists = f.lists_per_idle_minute
    lines += [
        "HubEE (journal du bac à sable) :",
        f"  Requêtes par seconde : {fmt_number(f.requests_per_second)} ({f.calls} appels, "
        f"{f.server_errors} erreur(s) 5xx)",
        "  Listages (GET /notifications) par démarche-minute inactive : "
        + ("—" if lists is None else fmt_number(lists))
        + f" (cible ≤ {fmt_number(LIST_TARGET, 0)}) "
        + mark(lists is not None and lists <= LIST_TARGET)
        + f" — {f.idle_list_calls} listages sur {f.idle_demarche_minutes} démarche-minutes"
        + " inactives (minute entière de la fenêtre sans dépôt pour la démarche, ni dans la "
        "minute d'avant)",
        f"  Demandes de jeton (POST /oauth2/token) par démarche-heure : "
        f"{fmt_number(f.tokens_per_demarche_hour)} (cible ≤ {fmt_number(TOKEN_TARGET, 0)} par "
        f"durée de vie d'un jeton, {TOKEN_LIFETIME_S} s) "
        f"{mark(f.tokens_per_demarche_hour <= TOKEN_TARGET)} — {f.token_requests} demande(s)",
        "  Appels par route : "
        + ", ".join(f"{route} {n}" for route, n in sorted(f.by_route.items(), key=lambda i: -i[1])),
    ]
    per_min = f.demarche_minutes
    share = f.core_share_per_1000(f.portal_cpu_s)
    lines += [
        "CPU (somme des processus, lue dans /proc) :",
        f"  qcluster (groupes entiers) : {fmt_number(f.cluster_cpu_s, 1)} s, "
        f"{fmt_number(f.cluster_cpu_s * 1000 / per_min, 1)} ms par démarche-minute, "
        f"{percent(f.core_share_per_1000(f.cluster_cpu_s))} d'un cœur pour 1 000 démarches",
        *_split(f),
        f"  PostgreSQL, connexions à la base du portail : {fmt_number(f.portal_pg_cpu_s, 1)} s, "
        f"{fmt_number(f.portal_pg_cpu_s * 1000 / per_min, 1)} ms par démarche-minute "
        f"({f.portal_backends} connexion(s) vue(s), échantillon 10 fois par seconde)",
        f"  PostgreSQL, connexions de moins de 0,1 s (non attribuées, toutes bases, dont une par "
        f"appel au bac à sable) : "
        f"{fmt_number(f.unattributed_pg_cpu_s, 1)} s ; serveur entier "
        f"{fmt_number(f.server_pg_cpu_s, 1)} s (bac à sable et autres utilisateurs compris)",
        f"  Portail (qcluster + ses connexions) : entre "
        f"{fmt_number(f.portal_cpu_low_s * 1000 / per_min, 1)} et "
        f"{fmt_number(f.portal_cpu_s * 1000 / per_min, 1)} ms par démarche-minute (borne haute : "
        f"les non attribuées comprises), entre {percent(f.core_share_per_1000(f.portal_cpu_low_s))}"
        f" et {percent(share)} d'un cœur pour 1 000 démarches (cible ≤ {percent(CORE_TARGET)}) "
        f"{mark(share <= CORE_TARGET)}",
        f"  Connexions simultanées à la base du portail (pic) : {f.peak_connections}",
    ]
    sandbox_share = f.sandbox_share
    lines.append(
        "Bac à sable : "
        + ("CPU ?" if sandbox_share is None else f"{percent(sandbox_share)} d'un cœur")
        + f", durée par appel p50 {fmt_number(f.latency_p50_ms or 0, 1)} ms / p95 "
        f"{fmt_number(f.latency_p95_ms or 0, 1)} ms (latence réglée : {s.latency_ms} ms)"
        + (" — le bac à sable était la limite" if f.sandbox_was_limit else "")
    )
    done_per_min = f.tasks_done / f.minutes
    queued_per_min = (f.tasks_done + f.queue_end - f.queue_start) / f.minutes
    funcs = ", ".join(f"{func} {n}" for func, n in sorted(f.tasks_by_func.items()))
    lines += [
        f"Tâches django-q : {fmt_number(queued_per_min, 1)} mises en file et "
        f"{fmt_number(done_per_min, 1)} terminées par minute ({funcs or 'aucune'}) ; file "
        f"{f.queue_start} → {f.queue_end} (pic {f.queue_max}) : "
        + ("elle grossit ✗" if f.queue_grows else "elle ne grossit pas ✓"),
        "  (terminées : lignes Task relevées chaque seconde, avant l'élagage de save_limit ; "
        "mises en file : terminées + variation de la file du broker)",
    ]
    p95 = f.freshness(0.95)
    lines.append(
        f"Fraîcheur (dépôt → dossier visible) : p50 {_seconds(f.freshness(0.50))}, p95 "
        f"{_seconds(p95)} (cible ≤ {FRESHNESS_TARGET_S:.0f} s) "
        f"{mark(p95 is not None and p95 <= FRESHNESS_TARGET_S)}, max {_seconds(f.freshness(1.0))}"
        f" ; {f.unseen_in_window} dépôt(s) de la fenêtre jamais vu(s)"
    )
    c = f.correctness
    ok = f.missing == f.doubled == f.altered == 0 and c["cases"] == c["dossiers"]
    lines += [
        f"Exactitude (côté bac à sable, tous les dépôts) : {c['cases']} télédossier(s), "
        f"{c['dossiers']} dossier(s) ; manquants {f.missing}, en double {f.doubled}, altérés "
        f"{f.altered} {mark(ok)}",
        f"  ({len(c['missing'])} sans dossier, {len(c['unpushed'])} sans SI_RECEIVED, "
        f"{len(c['pushed_twice'])} statut(s) poussé(s) deux fois, {len(c['doubled_files'])} "
        f"fichier(s) en double, {c['pending_notifications']} notification(s) restante(s), "
        f"{c['unsent']} envoi(s) en attente ; vidange "
        + ("complète)" if f.drained else "inachevée dans le temps imparti)"),
    ]
    if f.stopped_badly:
        lines.append(f"Cluster(s) arrêté(s) anormalement : {f.stopped_badly}")
    if f.probe_errors:
        lines.append(f"Erreurs de la sonde : {f.probe_errors}")
    return lines


def problems(f: FleetFigures) -> dict[str, Any]:
    """What must be empty when nothing was lost, doubled or altered (for the tests)."""
    c = f.correctness
    found = {
        key: c[key]
        for key in ("missing", "extra", "altered", "doubled_files", "unpushed", "pushed_twice")
        if c[key]
    }
    if c["pending_notifications"] or c["unsent"]:
        found["pending"] = (c["pending_notifications"], c["unsent"])
    if f.unseen_in_window:
        found["unseen_in_window"] = f.unseen_in_window
    return found


def _split(f: FleetFigures) -> list[str]:
    """With several clusters: each one's share of the qcluster CPU (the work shared)."""
    if len(f.cluster_cpu_each_s) < 2 or f.cluster_cpu_s <= 0:
        return []
    shares = " / ".join(percent(cpu / f.cluster_cpu_s) for cpu in f.cluster_cpu_each_s)
    return [f"    réparti entre les clusters 1 à {len(f.cluster_cpu_each_s)} : {shares}"]
