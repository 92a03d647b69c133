"""Review finding: two renders of the same piece race. The second (started before the first
finished) calls _replace_older, which removes every `<piece>-*` folder — including the first
render's finished folder for the *same* digest, while its images are being served. The agent
then gets « Aperçu indisponible » or 404 images until the second render renames its own."""

from __future__ import annotations

import pytest

from dossiers.records import previews
from tests.dossiers.test_previews import piece, real_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def test_a_concurrent_render_of_the_same_file_keeps_the_finished_images(monkeypatch):
    item = piece(real_pdf())
    first = previews.render(item)  # request A: done, its images are being fetched
    served = first.pages[0]
    real_read = previews._read
    calls = {"n": 0}

    def read_as_before_a_finished(folder):
        # Request B looked at the cache before A renamed its folder into place, and (the lock
        # now makes it look again once A is done) is made to build anyway.
        calls["n"] += 1
        return None if calls["n"] <= 2 else real_read(folder)

    seen_during_b = []
    real_replace = previews._replace_older

    def replace_and_look(parent, piece_pk, **kwargs):
        real_replace(parent, piece_pk, **kwargs)
        seen_during_b.append(served.is_file())

    monkeypatch.setattr(previews, "_read", read_as_before_a_finished)
    monkeypatch.setattr(previews, "_replace_older", replace_and_look)
    previews.render(item)  # request B
    assert seen_during_b == [True], "B deleted the images A was serving (same digest)"
    assert served.is_file()
