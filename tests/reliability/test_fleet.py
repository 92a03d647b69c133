"""The fleet benchmark (issue 22) in the suite: a short run of the real schedule in real
qcluster processes on PostgreSQL and Redis, and the same with one of two clusters killed.

Nothing here asserts a time or a rate: the figures are printed by the benchmark; the tests
check that each one is there and that no deposit was lost, doubled or altered.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability.conftest import DEFAULT_REDIS_URL, _postgres_admin_url, unavailable
from tools.bench import fleet
from tools.bench.fleet_report import format_fleet, problems

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Every figure of the report, by the start of its line.
REPORT_LABELS = [
    "Flotte — essai court",
    "Requêtes par seconde",
    "Listages (GET /notifications) par démarche-minute inactive",
    "Demandes de jeton (POST /oauth2/token) par démarche-heure",
    "qcluster (groupes entiers)",
    "PostgreSQL, connexions à la base du portail",
    "PostgreSQL, connexions de moins de 0,1 s",
    "d'un cœur pour 1 000 démarches (cible ≤ 50 %)",
    "Connexions simultanées à la base du portail (pic)",
    "Bac à sable :",
    "Tâches django-q",
    "Fraîcheur (dépôt → dossier visible) : p50",
    "Exactitude (côté bac à sable, tous les dépôts)",
]


@pytest.fixture
def servers() -> dict[str, str]:
    """The PostgreSQL server where the benchmark makes its two databases, and Redis."""
    import psycopg
    import redis

    urls = {
        "database_url": _postgres_admin_url(),
        "redis_url": os.environ.get("RELIABILITY_REDIS_URL", DEFAULT_REDIS_URL),
    }
    try:
        admin = urls["database_url"].replace("postgres://", "postgresql://", 1)
        psycopg.connect(admin, connect_timeout=5).close()
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)
    try:
        redis.Redis.from_url(urls["redis_url"], socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return urls


def test_fleet_smoke_run_reports_every_figure_and_loses_nothing(servers):
    settings = fleet.FleetSettings(
        demarches=20,
        minutes=1,
        warmup=0,
        clusters=1,
        broker="redis",
        deposits_per_minute=20,
        **servers,
    )
    figures = fleet.run_fleet(settings)

    assert figures.deposits_in_window > 0
    assert problems(figures) == {}, "\n".join([*format_fleet(figures), *figures.cluster_logs])
    assert figures.drained
    assert figures.correctness["cases"] == figures.correctness["dossiers"] == figures.deposits
    assert figures.stopped_badly == [], figures.cluster_logs
    # Every figure measured (none missing for want of data) and printed.
    assert figures.calls > 0 and figures.idle_demarche_minutes > 0
    assert figures.tasks_done > 0 and figures.freshness(0.95) is not None
    assert figures.latency_p95_ms is not None and figures.sandbox_cpu_s is not None
    assert figures.cluster_cpu_s > 0 and figures.peak_connections > 0
    report = "\n".join(format_fleet(figures))
    assert [label for label in REPORT_LABELS if label not in report] == [], report
    assert figures.probe_errors == []


def test_one_of_two_clusters_killed_mid_run_loses_and_doubles_nothing(servers):
    # Killed as soon as the schedule has queued its tasks (after 5 s), while the deposits go
    # on: the tasks its workers had taken are lost with it, and must be made up for.
    settings = fleet.FleetSettings(
        demarches=12,
        minutes=1,
        warmup=0,
        clusters=2,
        broker="redis",
        deposits_per_minute=30,
        latency_ms=50,
        kill_cluster_at=5,
        **servers,
    )
    figures = fleet.run_fleet(settings)

    assert figures.killed_at is not None
    assert figures.killed_at < settings.minutes * 60  # the deposits went on after the kill
    assert figures.deposits_in_window > 0
    assert problems(figures) == {}, "\n".join([*format_fleet(figures), *figures.cluster_logs])
    assert figures.correctness["cases"] == figures.correctness["dossiers"] == figures.deposits
    # The other cluster kept running until the end (stopped cleanly).
    assert figures.stopped_badly == [], figures.cluster_logs
    report = "\n".join(format_fleet(figures))
    assert "Cluster 1 tué" in report
    # Both clusters worked (the killed one until its death), and the report says how much.
    assert len(figures.cluster_cpu_each_s) == 2 and all(figures.cluster_cpu_each_s)
    assert "réparti entre les clusters 1 à 2" in report
