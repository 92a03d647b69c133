"""The ingest benchmark before and after ClamAV, on a tiny volume: both runs store every case,
the second one has every file scanned clean by its own clamd (no timing asserts)."""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.test_benchmark_smoke import _database_url
from tools.bench import clamd, ingest_antivirus
from tools.bench.ingest import IngestSettings

pytestmark = pytest.mark.integration

CASES = 3


def test_ingest_before_and_after_the_antivirus():
    if _database_url():
        # Two throw-away installs cost about 15 s: the SQLite pass runs it, the engine plays no
        # part in what it checks (the ingest smoke test covers the PostgreSQL install).
        pytest.skip("banc avant/après l'antivirus : passe SQLite seulement")
    if not clamd.available():
        if os.environ.get("CI") == "true":
            pytest.fail(clamd.INSTALL_HINT)
        pytest.skip(clamd.INSTALL_HINT)
    settings = IngestSettings(cases=CASES, attachments=1, size=1000, latency_ms=0, connection_ms=0)

    figures = ingest_antivirus.run_ingest_antivirus(settings)

    assert (figures.off.dossiers, figures.off.files) == (CASES, CASES)
    assert (figures.on.dossiers, figures.on.files) == (CASES, CASES)
    assert figures.off.verdicts == {"off": CASES}
    assert figures.on.verdicts == {"clean": CASES}
    assert figures.off.scan_seconds is None and figures.on.scan_seconds is not None
    assert figures.ratio == pytest.approx(figures.on.seconds / figures.off.seconds)
    lines = ingest_antivirus.format_ingest_antivirus(figures)
    assert "Synchronisation avec l'antivirus / sans" in "\n".join(lines)
    assert f"Analyse des {CASES} fichier(s) par clamd ensuite" in "\n".join(lines)
