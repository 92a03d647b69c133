"""A crash between any two steps, then a rerun: no duplicate, no loss, one status push."""

from __future__ import annotations

import pytest

from dossiers.enums import AttachmentState
from dossiers.exchange.inbound.files import FileFetcher
from dossiers.exchange.inbound.mapping import Mapper
from dossiers.exchange.outbound import push
from dossiers.models import Dossier, Evenement, OutgoingEvent, PieceJointe
from dossiers.records import storage
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.conftest import pdf_bytes

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """Not an Exception: nothing in the sync may swallow it, like a kill -9."""


def crash_after(monkeypatch, owner, name):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        original(*args, **kwargs)
        raise Crash(name)

    monkeypatch.setattr(owner, name, wrapper)


STEPS = [
    (HubEEClient, "list_notifications"),
    (HubEEClient, "get_case"),
    (Mapper, "store_case"),
    (Mapper, "store_attachments"),
    (HubEEClient, "download_case_attachment"),  # bytes in the temp file, not renamed
    (storage, "commit"),  # renamed, row not yet marked stored
    (FileFetcher, "download_pending"),
    (HubEEClient, "create_event"),  # HubEE accepted the status, we did not record it
    (push, "record_sent"),
    (HubEEClient, "delete_notification"),
]


@pytest.mark.parametrize(("owner", "name"), STEPS, ids=[name for _, name in STEPS])
def test_crash_then_rerun(hubee, monkeypatch, owner, name):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED", automatic_final_status="DONE")
    files = [
        ("a.pdf", "t", "application/pdf", pdf_bytes("a", 4096)),
        ("b.pdf", "t", "application/pdf", pdf_bytes("b", 8192)),
        ("a.pdf", "t", "application/pdf", pdf_bytes("a-bis", 1024)),
    ]
    case = hubee.deposit(demarche, files=files)

    with monkeypatch.context() as patch:
        crash_after(patch, owner, name)
        with pytest.raises(Crash):
            hubee.sync(demarche)

    hubee.sync(demarche)

    dossier = Dossier.objects.get()
    pieces = list(PieceJointe.objects.filter(dossier=dossier))
    assert len(pieces) == 3
    assert all(p.state == AttachmentState.STORED for p in pieces)
    contents = sorted(p.absolute_path.read_bytes() for p in pieces)
    assert contents == sorted(f[3] for f in files)
    on_disk = sorted(p.name for p in dossier.folder.iterdir())
    assert on_disk == ["a (2).pdf", "a.pdf", "b.pdf"]  # no duplicate, no temp file
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]
    assert OutgoingEvent.objects.filter(state="sent").count() == 2
    assert Evenement.objects.filter(dossier=dossier).count() == 2
    assert sandbox.pending_si_notifications(demarche.subscription) == 0
    assert dossier.status == "DONE" or Dossier.objects.get().status == "DONE"
