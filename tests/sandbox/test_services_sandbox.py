"""The OSL-side service functions and the log queries."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from hubee_portal.hubee import HubEEClient, NotFoundError
from hubee_portal.sandbox import services, storage
from hubee_portal.sandbox.enums import AttachmentStatus, Party
from hubee_portal.sandbox.models import Attachment, Notification, Subscription
from tests.sandbox.helpers import PDF, etat_civil_files, status_event


def test_deposit_creates_the_case_its_files_and_one_notification(
    subscription: Subscription, sandbox_dir: Path
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    assert case.status == "HUBEE_NOTIFIED"
    assert case.external_id == "DILA-AEC-0000000000001-01"
    notification = Notification.objects.get()
    assert (notification.recipient_type, notification.case, notification.event) == (
        Party.SI,
        case,
        None,
    )
    pdf = case.attachments.get(type="ActeEtatCivil-PDF")
    assert pdf.size == len(PDF)
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (sandbox_dir / "attachments" / str(pdf.id)).read_bytes() == PDF


def test_external_ids_follow_hubee_and_fit_30_characters(db: None) -> None:
    census = services.create_subscription("recensementCitoyen", "rco", "s")
    certdc = services.create_subscription("CERTDC", "certdc", "s")
    unknown = services.create_subscription("ChangementNomUsage", "cnu", "s")

    ids = [
        services.deposit_case(sub, files=etat_civil_files()).external_id
        for sub in (census, census, certdc, unknown)
    ]

    assert ids[:3] == [
        "DILA-RCO-0000000000001-01",
        "DILA-RCO-0000000000002-01",
        "DGS-CERTDC-0000000000001-01",
    ]
    assert ids[3].startswith("DILA-Changeme") and ids[3].endswith("-0000000000001-01")
    assert all(len(external_id) <= 30 for external_id in ids)


def test_deposit_streams_a_big_file_from_a_path(
    subscription: Subscription, client: HubEEClient, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with big.open("wb") as out:
        for _ in range(5):
            out.write(block)
    case = services.deposit_case(
        subscription, files=[("big.bin", "documents", "application/octet-stream", big)]
    )
    attachment = case.attachments.get()

    sink = io.BytesIO()
    result = client.download_case_attachment(str(case.id), str(attachment.id), sink, None)

    assert attachment.size == result.size == 5 * 1024 * 1024
    assert result.sha256_hex == hashlib.sha256(big.read_bytes()).hexdigest()
    assert result.digest_checked


def test_deposit_with_pending_or_per_file_statuses(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(
        subscription,
        files=[
            ("a.pdf", "ActeEtatCivil-PDF", "application/pdf", b"a"),
            ("b.xml", "ActeEtatCivil-XML", "application/xml", b"b", "CORRUPTED"),
        ],
        attachment_status="PENDING",
    )

    statuses = {a.file_name: a.status for a in client.get_case(str(case.id)).attachments}
    assert statuses == {"a.pdf": "PENDING", "b.xml": "CORRUPTED"}
    with pytest.raises(NotFoundError) as caught:  # not downloadable until RECEIVED
        client.download_case_attachment(
            str(case.id), str(case.attachments.get(file_name="a.pdf").id), io.BytesIO(), None
        )
    assert caught.value.hubee_message == "File is not found"

    assert services.set_attachments_status(case, "RECEIVED") == 2
    sink = io.BytesIO()
    client.download_case_attachment(
        str(case.id), str(case.attachments.get(file_name="b.xml").id), sink, None
    )
    assert sink.getvalue() == b"b"


def test_deposit_with_one_status_per_file(subscription: Subscription) -> None:
    case = services.deposit_case(
        subscription, files=etat_civil_files(), attachment_statuses=["CORRUPTED", "RECEIVED"]
    )

    assert list(case.attachments.values_list("status", flat=True)) == ["CORRUPTED", "RECEIVED"]
    with pytest.raises(services.SandboxError):
        services.deposit_case(subscription, files=etat_civil_files(), attachment_statuses=["X"])


def test_lost_notifications_and_event_lookup(subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    message = services.osl_message(case, "Bonjour")
    assert services.pending_si_notifications(subscription) == 2

    assert services.drop_si_notifications(subscription) == 2

    assert services.pending_si_notifications(subscription) == 0
    assert services.event(str(message.id)) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"files": []}, "au moins un fichier"),
        (
            {"files": [("a", "t", "m", b"stored first"), ("b", "t", "m", b"x", "BROKEN")]},
            "Statut de pièce jointe inconnu",
        ),
        ({"external_id": "X" * 65}, "64 caractères"),
        ({"external_id": ""}, "64 caractères"),
        ({"applicant": {"lastName": ""}}, "obligatoires"),
    ],
)
def test_deposit_refuses_bad_input_and_leaves_no_file(
    subscription: Subscription, sandbox_dir: Path, kwargs: dict, message: str
) -> None:
    kwargs.setdefault("files", etat_civil_files())

    with pytest.raises(services.SandboxError, match=message):
        services.deposit_case(subscription, **kwargs)

    assert not subscription.cases.exists()
    leftovers = [p for p in sandbox_dir.rglob("*") if p.is_file()] if sandbox_dir.exists() else []
    assert leftovers == []


def test_create_subscription_validates(db: None) -> None:
    services.create_subscription("EtatCivil", "same", "s")

    with pytest.raises(ValidationError):
        services.create_subscription("EtatCivil", "same", "s")
    with pytest.raises(services.SandboxError):
        services.create_subscription("EtatCivil", "other", "")


def test_purge_deletes_the_binaries(subscription: Subscription, sandbox_dir: Path) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = services.osl_attach_deposit(case, [("c.pdf", "jf", "application/pdf", b"c")])
    ids = [a.id for a in Attachment.objects.all()]

    services.purge_case(case)

    assert set(Attachment.objects.values_list("status", flat=True)) == {AttachmentStatus.DELETED}
    assert not any(storage.attachment_path(i).exists() for i in ids)
    with pytest.raises(services.SandboxError, match="purgé"):
        services.osl_message(case, "trop tard")
    with pytest.raises(services.SandboxError):
        services.osl_acknowledge(event)


def test_osl_close_twice_is_refused(subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.osl_close(case)

    with pytest.raises(services.SandboxError, match="déjà clos"):
        services.osl_close(case)


def test_osl_cannot_acknowledge_its_own_event(subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = services.osl_message(case, "Bonjour")

    with pytest.raises(services.SandboxError):
        services.osl_acknowledge(event)


def test_complements_loop_reopens_the_case(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.patch_case(str(case.id), "IN_PROGRESS")
    client.create_event(str(case.id), status_event("ADD_AWAITING", message="Il manque l'acte"))

    services.osl_attach_deposit(
        case, [("acte.pdf", "jf", "application/pdf", PDF)], case_new_status="HUBEE_NOTIFIED"
    )

    assert client.get_case(str(case.id)).status == "HUBEE_NOTIFIED"
    client.patch_case(str(case.id), "IN_PROGRESS")  # forward again from the reopened status


def test_status_pushes_and_call_counts(
    subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client = make_client(subscription)
    client.create_event(str(case.id), status_event("SI_RECEIVED"))
    client.patch_case(str(case.id), "IN_PROGRESS")  # a PATCH is not a STATUS_UPDATE event
    client.create_event(str(case.id), status_event("DONE"))
    services.osl_message(case, "Bonjour")

    assert services.status_pushes(case) == ["SI_RECEIVED", "DONE"]
    counts = services.call_counts(client_id="client-etatcivil")
    assert counts.calls == 4
    assert counts.new_connections == 1
    assert counts.by_route == {
        "POST /oauth2/token": 1,
        "POST /teledossiers/v1/cases/{caseId}/events": 2,
        "PATCH /teledossiers/v1/cases/{caseId}": 1,
    }
    assert services.call_counts(client_id="someone-else").calls == 0

    services.clear_call_log()
    assert services.call_counts().calls == 0
