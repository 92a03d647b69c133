"""Finding 6: nothing bounded what HubEE sends. Against the sandbox, in-process:

a. a huge JSON answer fails its own call (a French, protocol-classified error) and the run goes
   on with the other notifications;
b. a file over HUBEE_MAX_FILE_BYTES (declared, or not declared and streamed past it) is not
   kept: the piece says why, the dossier is otherwise complete;
c. a file whose declared size keeps being wrong is given up after HUBEE_DOWNLOAD_MAX_FAILURES
   runs, with an incident and a French explanation, and a staff member can retry it;
d. unparseable notifications are counted and reported, never a silent « Réussie ».
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse

from dossiers.enums import AttachmentState, FailureKind, RunStatus
from dossiers.models import Dossier, Incident, NotificationFailure, PieceJointe, SyncRun
from dossiers.operations import health, incidents
from hubee_portal.sandbox import serializers, services
from hubee_portal.sandbox.transport import SandboxAdapter
from tests.dossiers.conftest import BASE, Hubee, pdf_bytes
from tests.factories import AdminFactory, staff_with

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


class Spaces(io.RawIOBase):
    """`size` bytes of JSON whitespace after `head`, made on demand; counts what was read."""

    def __init__(self, size: int, head: bytes) -> None:
        self.size = size
        self.head = head
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.served, 64 * 1024)
        if count <= 0:
            return 0
        if self.served == 0:
            count = len(self.head)
            buffer[:count] = self.head
        else:
            buffer[:count] = b" " * count
        self.served += count
        return count


class Tampering(SandboxAdapter):
    """The sandbox, with chosen GETs answered by an endless JSON body, and `garbage` items at
    the head of every notifications list (as an API gone wrong would)."""

    def __init__(self, huge_paths: set[str] = frozenset(), garbage: int = 0) -> None:
        super().__init__()
        self.huge_paths = set(huge_paths)
        self.garbage = garbage
        self.bodies: list[Spaces] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        if request.method == "GET" and any(parts.path.endswith(p) for p in self.huge_paths):
            response = requests.Response()
            response.request = request
            response.url = request.url or ""
            response.status_code = 200
            response.headers["Content-Type"] = "application/json"
            body = Spaces(64 * MIB, b"{")
            self.bodies.append(body)
            response.raw = io.BufferedReader(body, buffer_size=64 * 1024)
            if not kwargs.get("stream"):
                response._content = response.raw.read()
            return response
        if request.method == "GET" and parts.path.endswith("/notifications") and self.garbage:
            query = dict(parse_qsl(parts.query))
            wanted = int(query.get("maxResult", "25"))
            response = super().send(request, *args, **kwargs)
            real = json.loads(response.content)
            bad = [{"id": f"pas-un-uuid-{i}", "caseId": None} for i in range(self.garbage)]
            response._content = json.dumps((bad + real)[:wanted]).encode()
            response.headers.pop("Content-Length", None)
            return response
        return super().send(request, *args, **kwargs)


def tamper(hubee: Hubee, adapter: Tampering) -> Tampering:
    hubee.session.mount(f"{BASE}/", adapter)
    return adapter


def pending_on_hubee(hubee: Hubee, demarche: Any) -> int:
    return services.pending_si_notifications(demarche.subscription)


# -- a: a huge JSON answer fails its call only ---------------------------------------------


def test_huge_case_answer_fails_that_notification_only(hubee: Hubee, settings: Any) -> None:
    settings.HUBEE_MAX_JSON_BYTES = 256 * 1024
    demarche = hubee.demarche()
    bad = hubee.deposit(demarche)
    good = hubee.deposit(demarche)
    adapter = tamper(hubee, Tampering(huge_paths={f"/cases/{bad.id}"}))

    outcome = hubee.sync(demarche)

    run = SyncRun.objects.get(pk=outcome.run.pk)
    assert run.status == RunStatus.PARTIAL
    assert Dossier.objects.filter(hubee_case_id=good.id).exists()
    assert not Dossier.objects.filter(hubee_case_id=bad.id).exists()
    failure = NotificationFailure.objects.get(case_id=bad.id)
    assert failure.kind == FailureKind.PERMANENT
    assert "Réponse de HubEE trop volumineuse" in failure.error
    # Streamed and cut: nothing near the 64 MiB HubEE offered was read.
    assert adapter.bodies and all(b.served <= 2 * MIB for b in adapter.bodies)


def test_huge_notifications_list_fails_the_run_with_a_french_message(
    hubee: Hubee, settings: Any
) -> None:
    settings.HUBEE_MAX_JSON_BYTES = 256 * 1024
    demarche = hubee.demarche()
    hubee.deposit(demarche)
    tamper(hubee, Tampering(huge_paths={"/notifications"}))

    outcome = hubee.sync(demarche)

    run = SyncRun.objects.get(pk=outcome.run.pk)
    assert run.status == RunStatus.FAILED
    assert "Réponse de HubEE trop volumineuse" in run.message


# -- b: a maximum file size ----------------------------------------------------------------


def deposit_big_and_small(hubee: Hubee, demarche: Any) -> Any:
    return hubee.deposit(
        demarche,
        files=[
            ("gros.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("gros", 8192)),
            ("demande.xml", "ActeEtatCivil-XML", "application/xml", b"<Demande/>"),
        ],
    )


def assert_big_one_refused(hubee: Hubee, demarche: Any, case: Any) -> None:
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    big = dossier.pieces_jointes.get(file_name="gros.pdf")
    small = dossier.pieces_jointes.get(file_name="demande.xml")
    assert big.state == "failed"
    assert "trop volumineux" in big.state_detail
    assert not big.absolute_path.exists()
    folder = Path(demarche.download_folder) / dossier.folder_name
    assert sorted(p.name for p in folder.iterdir()) == [Path(small.stored_path).name]
    assert small.state == AttachmentState.STORED
    # The dossier is otherwise complete: its notification is done, its status sent.
    assert pending_on_hubee(hubee, demarche) == 0
    assert services.status_pushes(case) == ["SI_RECEIVED"]


def test_declared_size_over_the_maximum_is_refused(hubee: Hubee, settings: Any) -> None:
    settings.HUBEE_MAX_FILE_BYTES = 4096
    demarche = hubee.demarche()
    case = deposit_big_and_small(hubee, demarche)

    hubee.sync(demarche)

    assert_big_one_refused(hubee, demarche, case)


def test_undeclared_size_is_cut_at_the_maximum(
    hubee: Hubee, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HUBEE_MAX_FILE_BYTES = 4096
    real = serializers.attachment_json
    # HubEE's size unknown (the mapping reads a negative size as « not declared »).
    monkeypatch.setattr(serializers, "attachment_json", lambda a: {**real(a), "size": -1})
    demarche = hubee.demarche()
    case = deposit_big_and_small(hubee, demarche)

    hubee.sync(demarche)

    assert_big_one_refused(hubee, demarche, case)


# -- c: a file that keeps failing its check is given up ------------------------------------


def break_declared_size(case: Any) -> Any:
    attachment = case.attachments.get(file_name="demande.pdf")
    attachment.size += 1
    attachment.save(update_fields=["size"])
    return attachment


def test_wrong_size_is_given_up_after_the_configured_runs(hubee: Hubee, settings: Any) -> None:
    settings.HUBEE_DOWNLOAD_MAX_FAILURES = 3
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    attachment = break_declared_size(case)

    for _ in range(2):
        hubee.sync(demarche)
        piece = PieceJointe.objects.get(hubee_attachment_id=attachment.id)
        assert piece.state == AttachmentState.CORRUPT
        assert pending_on_hubee(hubee, demarche) == 1  # kept on HubEE, tried again
    assert not [p for p in health.check().problems if p.kind == "download_failed"]

    hubee.sync(demarche)

    piece = PieceJointe.objects.get(hubee_attachment_id=attachment.id)
    assert piece.state == "failed"
    assert piece.download_failures == 3
    # The dossier is otherwise complete: its notification is done, its status sent.
    assert pending_on_hubee(hubee, demarche) == 0
    assert services.status_pushes(case) == ["SI_RECEIVED"]
    other = piece.dossier.pieces_jointes.exclude(pk=piece.pk).get()
    assert other.state == AttachmentState.STORED
    # No more downloads: the next run has nothing to do.
    calls = hubee.client(demarche).stats.calls
    hubee.sync(demarche)
    assert hubee.client(demarche).stats.calls - calls == 1  # the listing only

    # An incident for the administrators, a French explanation for the agents.
    problems = [p for p in health.check().problems if p.kind == "download_failed"]
    assert [p.subject for p in problems] == [f"demarche-{demarche.pk}"]
    incidents.evaluate()
    assert Incident.objects.filter(kind="download_failed", closed_at__isnull=True).exists()
    from dossiers.web.detail import piece_row

    explanation = piece_row(piece).explanation
    assert "a cessé de le télécharger après 3 essais" in explanation
    assert "hubee_retry_downloads" not in explanation  # a command is not for agents


def test_staff_retry_downloads_a_given_up_file(hubee: Hubee, settings: Any) -> None:
    settings.HUBEE_DOWNLOAD_MAX_FAILURES = 1
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    attachment = break_declared_size(case)
    hubee.sync(demarche)
    piece = PieceJointe.objects.get(hubee_attachment_id=attachment.id)
    assert piece.state == "failed"

    # Retried while still broken: one more try, failed again at once (no notification left).
    out = io.StringIO()
    call_command("hubee_retry_downloads", str(demarche.pk), stdout=out, client=hubee.client)
    piece.refresh_from_db()
    assert piece.state == "failed"
    assert "0 fichier(s) téléchargé(s), 1 en échec" in out.getvalue()

    attachment.size -= 1  # HubEE fixed its side
    attachment.save(update_fields=["size"])
    call_command("hubee_retry_downloads", str(demarche.pk), stdout=out, client=hubee.client)
    piece.refresh_from_db()
    assert piece.state == AttachmentState.STORED
    assert piece.download_failures == 0
    assert piece.absolute_path.read_bytes() == pdf_bytes("demande")
    assert not [p for p in health.check().problems if p.kind == "download_failed"]


def test_an_abandoned_file_is_acknowledged_like_a_given_up_notification(
    hubee: Hubee, settings: Any, client: Any
) -> None:
    """HubEE may never send it again: an administrator takes note, and the incident stops."""
    settings.HUBEE_DOWNLOAD_MAX_FAILURES = 1
    demarche = hubee.demarche()
    case = hubee.deposit(demarche)
    break_declared_size(case)
    hubee.sync(demarche)
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    piece = dossier.pieces_jointes.get(state=AttachmentState.FAILED)
    incidents.evaluate()
    assert Incident.objects.filter(kind="download_failed", closed_at__isnull=True).exists()

    client.force_login(AdminFactory())
    page = client.get(reverse("operations")).content.decode()
    listed = f"{reverse('admin:dossiers_dossier_changelist')}?abandon=a-acquitter"
    assert '<th scope="row">Fichiers abandonnés</th><td><span class="ops-ko">1</span>' in page
    assert listed in page
    assert dossier.external_id in client.get(listed).content.decode()

    action = {"action": "acknowledge_failed_downloads", "_selected_action": [dossier.pk]}
    changelist = reverse("admin:dossiers_dossier_changelist")
    # Seeing every dossier is not enough: acknowledging has its own permission.
    client.force_login(staff_with("dossiers.view_dossier", "dossiers.view_all_dossiers"))
    assert "acknowledge_failed_downloads" not in client.get(changelist).content.decode()
    client.post(changelist, action)
    piece.refresh_from_db()
    assert piece.failure_acknowledged_at is None

    client.force_login(
        staff_with(
            "dossiers.view_dossier",
            "dossiers.view_all_dossiers",
            "dossiers.acknowledge_failed_download",
        )
    )
    response = client.post(changelist, action, follow=True)
    assert "1 fichier(s) abandonné(s) acquitté(s)" in response.content.decode()
    piece.refresh_from_db()
    assert piece.failure_acknowledged_at is not None
    assert not [p for p in health.check().problems if p.kind == "download_failed"]
    client.force_login(AdminFactory())
    page = client.get(reverse("operations")).content.decode()
    assert '<th scope="row">Fichiers abandonnés</th><td>aucun</td>' in page

    # A retry that fails again is news: the incident comes back.
    call_command(
        "hubee_retry_downloads", str(demarche.pk), stdout=io.StringIO(), client=hubee.client
    )
    piece.refresh_from_db()
    assert (piece.state, piece.failure_acknowledged_at) == (AttachmentState.FAILED, None)
    assert [p for p in health.check().problems if p.kind == "download_failed"]


# -- d: unparseable notifications ----------------------------------------------------------


def test_only_unparseable_items_fail_the_run(hubee: Hubee) -> None:
    demarche = hubee.demarche()
    tamper(hubee, Tampering(garbage=3))

    outcome = hubee.sync(demarche)

    run = SyncRun.objects.get(pk=outcome.run.pk)
    assert run.status == RunStatus.FAILED
    assert run.errors == 3
    assert "3 notification(s) illisible(s)" in run.message


def test_unparseable_batch_at_the_head_does_not_hide_the_rest(hubee: Hubee) -> None:
    demarche = hubee.demarche()
    batch = demarche.connection.batch_size
    case = hubee.deposit(demarche)
    tamper(hubee, Tampering(garbage=batch))

    outcome = hubee.sync(demarche)

    run = SyncRun.objects.get(pk=outcome.run.pk)
    assert Dossier.objects.filter(hubee_case_id=case.id).exists()
    assert run.status == RunStatus.PARTIAL
    assert run.errors == batch
    assert f"{batch} notification(s) illisible(s)" in run.message
