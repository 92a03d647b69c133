"""Order of the durable steps for a new dossier, and what it costs in SQL.

Rows committed, then each file fsynced and renamed, then one fsync of the dossier's folder
(and of its parent, the folder being new), then the rows say STORED, then the status push,
then the DELETE of the notification.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers.enums import AttachmentState
from dossiers.models import PieceJointe
from hubee_portal.hubee import HubEEClient, TransientError
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

FILES = [(f"piece-{n}.pdf", "t", "application/pdf", pdf_bytes(f"piece-{n}")) for n in range(3)]


def stored_rows() -> int:
    return PieceJointe.objects.filter(state=AttachmentState.STORED).count()


@pytest.fixture
def trace(monkeypatch):
    """Every fsync, rename, status push and notification DELETE, in order, each with the
    number of rows then marked STORED."""
    steps: list[tuple[str, str, int]] = []
    fsync, replace = os.fsync, os.replace

    def traced_fsync(fd: int) -> None:
        kind = "fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"
        steps.append((kind, os.readlink(f"/proc/self/fd/{fd}"), stored_rows()))
        fsync(fd)

    def traced_replace(src, dst) -> None:
        steps.append(("rename", str(dst), stored_rows()))
        replace(src, dst)

    def around(name: str, label: str) -> None:
        original = getattr(HubEEClient, name)

        def call(self, *args, **kwargs):
            steps.append((label, "", stored_rows()))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(HubEEClient, name, call)

    monkeypatch.setattr(os, "fsync", traced_fsync)
    monkeypatch.setattr(os, "replace", traced_replace)
    around("create_event", "push")
    around("delete_notification", "delete")
    return steps


def test_one_folder_fsync_per_dossier_between_the_renames_and_the_stored_rows(hubee, trace):
    demarche = hubee.demarche()
    hubee.deposit(demarche, files=FILES)

    hubee.sync(demarche)

    folder = next(Path(demarche.download_folder).iterdir())
    root = str(Path(demarche.download_folder).resolve())
    steps = [
        (kind, path, stored)
        for kind, path, stored in trace
        if kind in ("push", "delete") or path.startswith(root)
    ]
    kinds = [kind for kind, _, _ in steps]
    assert kinds == [
        *["fsync-file", "rename"] * 3,
        "fsync-dir",
        "fsync-dir",
        "push",
        "delete",
    ]
    renamed = sorted(Path(path).name for kind, path, _ in steps if kind == "rename")
    assert renamed == sorted(name for name, *_ in FILES)
    # The dossier's folder, then its parent (the folder is new): once each, not per file.
    assert [path for kind, path, _ in steps if kind == "fsync-dir"] == [
        str(folder.resolve()),
        root,
    ]
    # No row says STORED before the folder is synced; all do before the push.
    assert all(stored == 0 for kind, _, stored in steps if kind != "push" and kind != "delete")
    assert [stored for kind, _, stored in steps if kind == "push"] == [3]
    assert {p.read_bytes() for p in folder.iterdir()} == {f[3] for f in FILES}


def test_files_that_arrived_before_an_error_are_kept_and_not_fetched_again(
    hubee, trace, monkeypatch
):
    demarche = hubee.demarche()
    case = hubee.deposit(demarche, files=FILES)
    original = HubEEClient.download_case_attachment
    fetched: list[str] = []
    broken = {"on": True}

    def download(self, case_id, attachment_id, handle, size):
        fetched.append(attachment_id)
        if broken["on"] and len(fetched) == 2:
            raise TransientError("connexion coupée")
        return original(self, case_id, attachment_id, handle, size)

    monkeypatch.setattr(HubEEClient, "download_case_attachment", download)

    hubee.sync(demarche)

    first = fetched[0]
    stored = PieceJointe.objects.get(state=AttachmentState.STORED)
    assert str(stored.hubee_attachment_id) == first
    assert stored.absolute_path.read_bytes() in {f[3] for f in FILES}
    # The folder was synced before that row said STORED; nothing pushed, nothing deleted.
    kinds = [kind for kind, *_ in trace]
    assert "fsync-dir" in kinds
    assert "push" not in kinds and "delete" not in kinds
    assert sandbox.pending_si_notifications(demarche.subscription) == 1

    broken["on"] = False
    fetched.clear()
    hubee.sync(demarche)

    assert first not in fetched and len(fetched) == 2
    assert stored_rows() == 3
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert sandbox.pending_si_notifications(demarche.subscription) == 0


def test_a_new_dossier_inserts_its_attachment_rows_at_once_and_never_reads_them_back(hubee):
    demarche = hubee.demarche()
    hubee.deposit(demarche, files=FILES)

    with CaptureQueriesContext(connection) as queries:
        hubee.sync(demarche)

    ours = [q["sql"] for q in queries.captured_queries if '"dossiers_piecejointe"' in q["sql"]]
    verbs = [sql.split()[0] for sql in ours]
    # One INSERT for the three rows, no read back, one UPDATE per file once stored.
    assert verbs == ["INSERT", "UPDATE", "UPDATE", "UPDATE"]
    assert stored_rows() == 3
