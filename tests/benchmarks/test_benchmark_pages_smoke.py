"""The pages benchmark on a tiny volume: every page answers, with its query count (no timing)."""

from __future__ import annotations

import os

import pytest

from tools.bench import pages as benchmarks_pages
from tools.bench.install import POSTGRES_SCHEMES

pytestmark = pytest.mark.integration


def test_pages_benchmark_renders_every_page():
    url = os.environ.get("DATABASE_URL", "")
    database_url = url if url.split(":", 1)[0] in POSTGRES_SCHEMES else None
    report = benchmarks_pages.run_pages(
        dossiers=40, files_per=1, events_per=1, repeats=2, database_url=database_url
    )
    assert (report.dossiers, report.files, report.events) == (40, 40, 40)
    assert report.analyzed == bool(database_url)
    assert [page.page for page in report.pages] == [
        "liste",
        "liste (agent)",
        "liste filtrée",
        "dernière page",
        "détail",
        "accueil (agent)",
        "mes dossiers (agent)",
        "attribué : personne",
        "à traiter (agent)",
        "nouveaux messages",
        "sélection groupée",
        "statistiques",
    ]
    for page in report.pages:
        assert 0 < page.queries <= 12, page
    lines = benchmarks_pages.format_pages(report)
    assert len(lines) == 1 + len(report.pages)
