"""Issue 19, finding 3: citizens' files, their folders and the SQLite database were readable by
every account of the server (644/755). Mode bits are read with stat: this holds as root too."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dossiers.records import storage

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask():
    """The umask of a shell or a unit without UMask=: the portal must not depend on it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_and_folders_get_the_configured_modes(tmp_path, settings, lax_umask):
    final = tmp_path / "demarche" / "DOSSIER-1" / "acte.pdf"
    storage.write_atomic(final, lambda handle: handle.write(b"%PDF"))
    assert mode(final) == 0o640
    assert mode(final.parent) == 0o750
    assert mode(final.parent.parent) == 0o750

    settings.HUBEE_FILE_MODE = 0o600
    settings.HUBEE_DIR_MODE = 0o700
    other = tmp_path / "demarche" / "DOSSIER-2" / "piece.xml"
    storage.write_atomic(other, lambda handle: handle.write(b"<a/>"))
    assert mode(other) == 0o600
    assert mode(other.parent) == 0o700
    # An existing folder is left as the administrator set it.
    assert mode(final.parent.parent) == 0o750


def test_a_demarche_folder_made_when_the_demarche_is_saved_gets_the_folder_mode(
    tmp_path, settings, lax_umask
):
    from demarches.validators import validate_download_folder

    settings.HUBEE_DIR_MODE = 0o700
    folder = tmp_path / "syndicat" / "etat-civil"
    validate_download_folder(str(folder))
    assert mode(folder) == 0o700
    assert mode(folder.parent) == 0o700


def test_the_sqlite_database_and_its_journal_are_private(tmp_path):
    """A real entry point (manage.py) under a lax umask: the database, -wal and -shm get
    HUBEE_FILE_MODE, and the process runs with umask 027."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ENV_FILE"}
    }
    env.update(DEBUG="true", DATA_DIR=str(tmp_path), ENV_FILE=str(tmp_path / "absent.env"))
    code = (
        "import os\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE probe (x int)')\n"
        "database = connection.settings_dict['NAME']\n"
        "for suffix in ('', '-wal', '-shm'):\n"
        "    print(suffix or 'db', oct(os.stat(f'{database}{suffix}').st_mode & 0o777))\n"
        "print('umask', oct(os.umask(0o077)))\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    # Only the probe's lines (the shell may print its banner).
    probe = re.findall(r"^(db|-wal|-shm|umask) (0o\d+)$", result.stdout, flags=re.M)
    modes = dict(probe)
    assert modes == {"db": "0o640", "-wal": "0o640", "-shm": "0o640", "umask": "0o27"}


def test_every_systemd_unit_in_the_docs_sets_umask_0027():
    docs = (ROOT / "docs" / "installation-et-production.md").read_text()
    units = re.findall(r"```ini\n(.*?)```", docs, flags=re.S)
    services = [unit for unit in units if "[Service]" in unit]
    assert len(services) >= 2  # the web server and the worker
    for unit in services:
        assert "UMask=0027" in unit, unit


def test_a_failure_to_set_a_mode_is_reported_not_swallowed(tmp_path, monkeypatch):
    """Read-only file system at the seam: the error reaches the caller (the sync journals it,
    tests/reliability/test_disk_errors.py), and no temp file is left behind."""
    import errno

    def read_only(fd, file_mode):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "fchmod", read_only)
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError, match="Read-only"):
        storage.write_atomic(tmp_path / "d" / "f.bin", lambda handle: handle.write(b"x"))
    assert list((tmp_path / "d").iterdir()) == []


def test_bad_modes_stop_the_start():
    env = {**os.environ, "DEBUG": "true", "HUBEE_FILE_MODE": "0044"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", "import hubee_portal.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "HUBEE_FILE_MODE est un mode octal" in result.stderr
