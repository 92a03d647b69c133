"""Private files from the start: umask 027 at every entry point (manage.py, WSGI), and the SQLite
database with its -wal and -shm chmod-ed to HUBEE_FILE_MODE when a connection opens (a database
created before, or by a process with another umask, is put right)."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o027
_done: set[str] = set()


def secure_sqlite_files(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name in _done or name == ":memory:" or name.startswith("file:"):
        return
    from django.conf import settings

    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{name}{suffix}")
        if path.exists():
            os.chmod(path, settings.HUBEE_FILE_MODE)
    _done.add(name)  # once a process: SQLite makes later -wal/-shm with the database's mode


def install() -> None:
    """Call before Django starts: the umask, and the database check on connection."""
    os.umask(PRIVATE_UMASK)
    from django.db.backends.signals import connection_created

    connection_created.connect(secure_sqlite_files, dispatch_uid="hubee_secure_sqlite_files")


def ensure_dir(path: Path) -> None:
    """`path` and its missing parents, created with HUBEE_DIR_MODE; existing folders keep the
    mode their administrator gave them."""
    from django.conf import settings

    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:  # another worker made it first: its own mode applies
            continue
        os.chmod(folder, settings.HUBEE_DIR_MODE)  # mkdir's mode is cut by the umask
    path.mkdir(parents=True, exist_ok=True)
