"""Review finding: `--summary-file` is created world-readable when the path does not exist yet
(open(path, "a") follows the umask, and symlinks), so the administrator password written there
can be read by any local account. Only make run's mktemp makes it private today."""

from __future__ import annotations

import contextlib
import io
import os
import stat

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_a_new_summary_file_holding_a_password_is_private(tmp_path):
    path = tmp_path / "recap.jsonl"
    old = os.umask(0o022)  # the usual umask of a shell
    try:
        call_command("hubee_bootstrap", summary_file=str(path), stdout=io.StringIO())
    finally:
        os.umask(old)
    assert '"password"' in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_summary_file_does_not_follow_a_symlink(tmp_path):
    target = tmp_path / "ailleurs.txt"
    target.write_text("")
    target.chmod(0o644)
    link = tmp_path / "recap.jsonl"
    link.symlink_to(target)
    # Refusing (an error) is the expected behaviour.
    with contextlib.suppress(Exception):
        call_command("hubee_bootstrap", summary_file=str(link), stdout=io.StringIO())
    assert "password" not in target.read_text()
