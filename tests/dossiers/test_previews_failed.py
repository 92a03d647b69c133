"""Review finding: a failed render is not remembered. A hostile file that runs the worker to its
10 s wall limit costs 10 s of a request thread and a CPU at every opening of its preview page and
at every request of one of its image URLs (/apercu/<n>/), by any agent: a handful of requests
ties up all the portal's workers (2 cores)."""

from __future__ import annotations

import subprocess

import pytest

from dossiers.records import previews
from tests.dossiers.test_previews import piece, real_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def test_a_file_that_hit_the_wall_limit_is_not_rendered_again(monkeypatch):
    item = piece(real_pdf())
    spawned = []
    real_run = subprocess.run

    def counting_run(*args, **kwargs):
        spawned.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    for _ in range(3):
        with pytest.raises(previews.PreviewUnavailable):
            previews.render(item, timeout=0.5, worker="tests.dossiers.slow_preview_worker")
    assert len(spawned) == 1, f"{len(spawned)} workers spawned for the same hostile file"
