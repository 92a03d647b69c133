"""The staff pages benchmark on a small fleet: every page answers, the incident check runs, none
makes a query per démarche (no timing)."""

from __future__ import annotations

import os

import pytest

from tools.bench import staff_pages
from tools.bench.install import POSTGRES_SCHEMES

pytestmark = pytest.mark.integration


def test_staff_pages_benchmark_renders_every_page():
    url = os.environ.get("DATABASE_URL", "")
    database_url = url if url.split(":", 1)[0] in POSTGRES_SCHEMES else None
    report = staff_pages.run_staff_pages(
        demarches=30,
        runs_per=2,
        dossiers_per=1,
        agent_demarches=5,
        repeats=1,
        database_url=database_url,
    )
    assert (report.demarches, report.organisations, report.runs) == (30, 8, 60)
    assert [page.page for page in report.pages] == [
        "état du portail",
        "/healthz",
        "admin : accueil",
        "admin : démarches",
        "accueil (agent)",
        "incidents.evaluate()",
    ]
    # A query per démarche would make 30 at least.
    for page in report.pages:
        assert 0 < page.queries < report.demarches, page
    lines = staff_pages.format_staff_pages(report)
    assert len(lines) == 1 + len(report.pages)
