"""The benchmark functions on tiny inputs: the figures they print add up (no timing asserts)."""

from __future__ import annotations

import os

import pytest

from tools.bench import ingest as benchmarks
from tools.bench import memory
from tools.bench.ingest import (
    CASE_ROUTE,
    DELETE_ROUTE,
    DOWNLOAD_ROUTE,
    EVENT_ROUTE,
    LIST_ROUTE,
    TOKEN_ROUTE,
)
from tools.bench.install import POSTGRES_SCHEMES

pytestmark = pytest.mark.integration

CASES = 6
ATTACHMENTS = 2


def _database_url() -> str | None:
    # On the PostgreSQL run of the suite, exercise the dedicated-database path as well.
    url = os.environ.get("DATABASE_URL", "")
    return url if url.split(":", 1)[0] in POSTGRES_SCHEMES else None


@pytest.fixture(scope="module")
def ingest():
    settings = benchmarks.IngestSettings(
        cases=CASES,
        attachments=ATTACHMENTS,
        size=1000,
        latency_ms=0,
        connection_ms=0,
        concurrency=2,
        database_url=_database_url(),
    )
    return benchmarks.run_ingest(settings)


def test_every_case_is_stored_once_with_identical_files(ingest):
    assert ingest.stored_dossiers == CASES
    assert ingest.stored_files == CASES * ATTACHMENTS
    assert ingest.file_mismatches == 0
    assert ingest.ours_pending == ingest.official_pending == 0
    assert ingest.official.dossiers == CASES
    assert ingest.official_files_on_disk == CASES * ATTACHMENTS


def test_our_calls_are_3_plus_a_per_dossier_plus_one_token_and_the_listings(ingest):
    ours = ingest.ours
    lists = benchmarks.expected_list_calls(CASES)
    assert ours.by_route == {
        TOKEN_ROUTE: 1,
        LIST_ROUTE: lists,
        CASE_ROUTE: CASES,
        DOWNLOAD_ROUTE: CASES * ATTACHMENTS,
        EVENT_ROUTE: CASES,
        DELETE_ROUTE: CASES,
    }
    assert ours.calls == CASES * (3 + ATTACHMENTS) + 1 + lists
    assert ours.calls_per_dossier == pytest.approx((3 + ATTACHMENTS) + (1 + lists) / CASES)
    assert ours.status_pushes == CASES
    assert ours.server_errors == 0
    # Keep-alive: at most one connection per worker thread (plus the main one).
    assert ours.new_connections <= ingest.settings.concurrency + 1


def test_the_official_pattern_opens_a_connection_per_call_and_a_token_per_batch(ingest):
    official = ingest.official
    lists = benchmarks.expected_list_calls(CASES)
    assert official.by_route == {
        TOKEN_ROUTE: lists,
        LIST_ROUTE: lists,
        CASE_ROUTE: CASES,
        DOWNLOAD_ROUTE: CASES * ATTACHMENTS,
        EVENT_ROUTE: 2 * CASES,
        DELETE_ROUTE: CASES,
    }
    assert official.new_connections == official.calls
    assert official.status_pushes == 2 * CASES
    assert official.calls_per_dossier > ingest.ours.calls_per_dossier


def test_the_printed_figures_follow_from_the_measures(ingest):
    assert ingest.bound_seconds == 0  # latency 0: the bound is zero, and so is the ratio
    assert ingest.bound_ratio == 0
    assert not ingest.meets_bound
    assert ingest.speedup == pytest.approx(ingest.official.seconds / ingest.ours.seconds)
    text = "\n".join(benchmarks.format_ingest(ingest))
    assert f"{ingest.ours.calls}" in text
    assert "✗" in text


def test_the_bound_is_n_times_3_plus_a_times_r_over_k():
    settings = benchmarks.IngestSettings(cases=500, attachments=3, latency_ms=50, concurrency=4)
    figures = benchmarks.IngestFigures(
        settings=settings,
        database="SQLite",
        ours=benchmarks.PatternFigures("portail", 46.875, 500, 3022, 5, 500, 0),
        official=benchmarks.PatternFigures("script officiel", 600.0, 500, 3542, 3542, 1000, 0),
        ours_in_process_seconds=None,
        stored_dossiers=500,
        stored_files=1500,
        file_mismatches=0,
        ours_pending=0,
        official_pending=0,
        official_files_on_disk=1500,
    )
    assert figures.bound_seconds == pytest.approx(37.5)
    assert figures.bound_ratio == pytest.approx(0.8)
    assert figures.meets_bound
    assert figures.speedup == pytest.approx(12.8)
    assert figures.meets_speedup
    lines = benchmarks.format_ingest(figures)
    assert any("80 %" in line and "✓" in line for line in lines)


def test_memory_of_a_small_attachment():
    figures = memory.run_memory(size_mb=2, database_url=_database_url())
    assert figures.stored_size == 2 * 1024 * 1024
    assert figures.stored_sha256_ok
    assert figures.baseline_kib > 10_000  # a Django process: tens of MB, read from wait4
    assert figures.peak_kib > 10_000
    assert figures.growth_mb == pytest.approx((figures.peak_kib - figures.baseline_kib) / 1024)


def test_xml_memory_benchmark_reads_a_nested_file_within_its_bounds():
    from tools.bench import xml_memory

    figures = xml_memory.run_xml_memory(1)
    assert figures.size <= 1024 * 1024 and figures.elements > 100_000
    assert "plus de 50 niveaux" in figures.cut
    # The old parser needed about 20 MB per MB of such a file; the bounded one, a few.
    assert figures.growth_mb < 10
    assert 0 < figures.traced_bytes < 10 * 1024 * 1024  # the read's own allocations
    lines = xml_memory.format_xml_memory(figures)
    assert (
        f"{figures.elements} éléments" in lines[0]
        and "pic des allocations de la lecture" in lines[1]
    )
