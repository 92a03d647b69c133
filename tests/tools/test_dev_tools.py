"""The development tools of tools/: make run's closing box and the module-size check."""

import io
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from tools import module_size, run_summary


@pytest.mark.django_db
def test_make_runs_box_shows_new_passwords_once_then_how_to_change_them(tmp_path):
    first = tmp_path / "first"
    call_command("hubee_bootstrap", summary_file=str(first), stdout=io.StringIO())
    created = run_summary.accounts(first)
    assert not first.exists()  # it held a password
    (account,) = created
    assert account["username"] == "admin" and account["role"] == "administrateur"
    box = run_summary.boxed(run_summary.summary("http://127.0.0.1:8000", created))
    assert account["password"] in box and "http://127.0.0.1:8000/sandbox/" in box
    assert "changepassword" not in box

    again = tmp_path / "again"
    call_command("hubee_bootstrap", summary_file=str(again), stdout=io.StringIO())
    box = run_summary.boxed(
        run_summary.summary("http://127.0.0.1:8000", run_summary.accounts(again))
    )
    assert account["password"] not in box
    assert "DEBUG=true .venv/bin/python manage.py changepassword" in box
    lines = box.splitlines()
    assert len({len(line) for line in lines}) == 1  # a closed box
    assert max(len(line) for line in lines) <= run_summary.WIDTH


def test_the_summary_file_is_private(tmp_path):
    # make run creates it with mktemp (mode 600); the box reads it, then deletes it.
    handle, name = tempfile.mkstemp(dir=tmp_path)
    os.close(handle)
    assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    Path(name).write_text(json.dumps({"username": "a", "role": "agent", "password": "p"}) + "\n")
    assert run_summary.accounts(Path(name))[0]["password"] == "p"
    assert not Path(name).exists()


def test_module_size_check_names_long_modules_but_not_migrations_or_exceptions(tmp_path):
    long = "x = 1\n" * (module_size.LIMIT + 1)
    for relative in (
        "dossiers/big.py",
        "dossiers/migrations/0001_initial.py",
        "demarches/services.py",
        "tools/fine.py",
    ):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(long if "fine" not in relative else "x = 1\n")
    assert module_size.oversized(tmp_path) == [("dossiers/big.py", module_size.LIMIT + 1)]
