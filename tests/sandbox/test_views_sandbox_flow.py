"""The SI's conversations with the sandbox, driven through the real HubEE client."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import requests

from hubee_portal.hubee import (
    ActionType,
    AttachmentDraft,
    BadRequestError,
    EventDraft,
    HubEEClient,
    NotFoundError,
)
from hubee_portal.sandbox import services
from hubee_portal.sandbox.enums import AttachmentStatus, EventStatus, Party
from hubee_portal.sandbox.models import Attachment, Case, Event, Notification, Subscription
from tests.sandbox.conftest import API, APPLICATION, bearer
from tests.sandbox.helpers import (
    PDF,
    XML,
    b64_sha256,
    etat_civil_files,
    post_event_body,
    status_event,
)

ATTESTATION = b"%PDF-1.4\n% attestation de recensement\n" + b"x" * 5000


def _status(case: Case) -> str:
    return services.case_as_hubee_sees_it(case)["status"]


def _osl_notified_events(subscription: Subscription) -> list[tuple[str | None, str | None]]:
    return [
        (str(n.event_id) if n.event_id else None, n.event.status if n.event else None)
        for n in services.osl_notifications(subscription)
    ]


def test_new_case_flow(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(
        subscription,
        applicant={"firstName": "Louise", "lastName": "DUBOIS", "email": "louise@example.org"},
        files=etat_civil_files(),
    )

    # 1. The notification of a new case: eventId and the event details are null.
    (notification,) = client.list_notifications(25, event_details=True)
    assert notification.case_id == str(case.id)
    assert notification.is_new_case
    assert notification.process_code == "EtatCivil"
    assert notification.raw["eventActionType"] is None
    assert notification.raw["eventStatus"] is None
    assert notification.raw["recipient"] == {
        "type": "SI",
        "companyRegister": "21060088800015",
        "branchCode": "06088",
    }
    assert notification.raw["transmitter"]["type"] == "OSL"

    # 2. The case, its applicant and its files.
    data = client.get_case(notification.case_id)
    assert data.external_id == case.external_id
    assert data.status == "HUBEE_NOTIFIED"
    assert data.raw["applicant"] == {
        "firstName": "Louise",
        "lastName": "DUBOIS",
        "email": "louise@example.org",
    }
    assert data.raw["events"] == []
    contents = {"ActeEtatCivil-PDF.pdf": PDF, "ActeEtatCivil-XML.xml": XML}
    for attachment in data.attachments:
        assert attachment.status == "RECEIVED"
        sink = io.BytesIO()
        result = client.download_case_attachment(str(case.id), attachment.id, sink, attachment.size)
        assert sink.getvalue() == contents[attachment.file_name]
        assert result.digest_checked
        header = raw.get(
            f"{API}/cases/{case.id}/attachments/{attachment.id}",
            headers=bearer(raw, subscription),
        ).headers["digest"]
        assert header == b64_sha256(contents[attachment.file_name])

    # 3. The SI's status moves the case and notifies the OSL.
    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))
    assert event.status == "SENT"
    assert event.case_current_status == "HUBEE_NOTIFIED"
    assert event.raw["partnerInfo"] == {
        "editorName": "COMMUNE DE NICE",
        "applicationName": APPLICATION,
        "softwareVersion": "0.1.0",
    }
    assert _status(case) == "SI_RECEIVED"
    assert _osl_notified_events(subscription) == [(event.id, "SENT")]

    # 4. Backwards (or the same status again) is refused, and changes nothing.
    with pytest.raises(BadRequestError) as caught:
        client.create_event(str(case.id), status_event("SENT"))
    assert "SI_RECEIVED -> SENT" in caught.value.hubee_message
    with pytest.raises(BadRequestError):
        client.patch_case(str(case.id), "SI_RECEIVED")
    assert _status(case) == "SI_RECEIVED"
    assert services.status_pushes(case) == ["SI_RECEIVED"]

    # 5. Deleting the notification removes it for good.
    client.delete_notification(notification.id)
    assert client.list_notifications(25) == []
    with pytest.raises(NotFoundError) as caught:
        client.delete_notification(notification.id)
    assert caught.value.hubee_message == "Notification is not found"


def test_forward_skips_are_accepted_and_finals_are_final(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    client.create_event(str(case.id), status_event("IN_PROGRESS"))
    client.patch_case(str(case.id), "DONE")

    for status in ("REFUSED", "SI_INTG_ERROR", "CLOSED", "HUBEE_NOTIFIED", "ARCHIVED", "NOPE"):
        with pytest.raises(BadRequestError):
            client.create_event(str(case.id), status_event(status))
    assert _status(case) == "DONE"
    assert services.status_pushes(case) == ["IN_PROGRESS"]


def test_si_intg_error_from_a_new_case(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    client.create_event(str(case.id), status_event("SI_INTG_ERROR"))

    assert _status(case) == "SI_INTG_ERROR"
    with pytest.raises(BadRequestError):
        client.patch_case(str(case.id), "IN_PROGRESS")


def test_add_awaiting_only_where_the_demarche_allows_it(
    subscription: Subscription,
    strict_subscription: Subscription,
    make_client: Callable[..., HubEEClient],
) -> None:
    allowed = services.deposit_case(subscription, files=etat_civil_files())
    refused = services.deposit_case(strict_subscription, files=etat_civil_files())

    make_client(subscription).patch_case(str(allowed.id), "ADD_AWAITING")
    with pytest.raises(BadRequestError) as caught:
        make_client(strict_subscription).patch_case(str(refused.id), "ADD_AWAITING")

    assert _status(allowed) == "ADD_AWAITING"
    assert _status(refused) == "HUBEE_NOTIFIED"
    assert "ADD_AWAITING is not authorized" in caught.value.hubee_message


def test_closed_case_refuses_the_si(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.patch_case(str(case.id), "DONE")
    services.osl_close(case)

    with pytest.raises(BadRequestError):
        client.patch_case(str(case.id), "SI_INTG_ERROR")
    with pytest.raises(BadRequestError):
        client.create_event(
            str(case.id), EventDraft(ActionType.SENDING_MESSAGE, notification=True, message="?")
        )

    data = services.case_as_hubee_sees_it(case)
    assert data["status"] == "CLOSED"
    assert data["closeDateTime"] is not None


def test_osl_attach_deposit_reaches_the_si_and_is_acknowledged(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = services.osl_attach_deposit(
        case, [("piece-jf.pdf", "jf", "application/pdf", ATTESTATION)], message="Voici la pièce"
    )

    notifications = client.list_notifications(25, event_details=True)
    assert [(n.event_id, n.event_action_type, n.event_status) for n in notifications] == [
        (None, None, None),
        (str(event.id), "ATTACH_DEPOSIT", "SENT"),
    ]
    data = client.get_event(str(case.id), str(event.id))
    assert data.transmitter.type == "OSL"
    assert data.message == "Voici la pièce"
    (attachment,) = data.attachments
    sink = io.BytesIO()
    client.download_event_attachment(
        str(case.id), str(event.id), attachment.id, sink, attachment.size
    )
    assert sink.getvalue() == ATTESTATION

    client.patch_event(str(case.id), str(event.id), "RECEIVED")

    assert _osl_notified_events(subscription) == [(str(event.id), "RECEIVED")]
    # eventStatus is live: the SI's listing now shows the acknowledgement.
    assert client.list_notifications(25)[1].event_status == "RECEIVED"
    # Acknowledging again is harmless and notifies nobody twice.
    client.patch_event(str(case.id), str(event.id), "RECEIVED")
    assert len(_osl_notified_events(subscription)) == 1


def test_si_cannot_acknowledge_its_own_event(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))

    with pytest.raises(BadRequestError):
        client.patch_event(str(case.id), event.id, "RECEIVED")


def test_osl_acknowledgement_notifies_the_si(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    (new_case,) = client.list_notifications(25)
    client.delete_notification(new_case.id)
    notified = client.create_event(str(case.id), status_event("SI_RECEIVED"))
    silent = client.create_event(str(case.id), status_event("IN_PROGRESS", notification=False))

    services.osl_acknowledge(Event.objects.get(pk=notified.id))
    services.osl_acknowledge(Event.objects.get(pk=silent.id))

    (notification,) = client.list_notifications(25, event_details=True)
    assert notification.event_id == notified.id
    assert notification.event_action_type == "STATUS_UPDATE"
    assert notification.event_status == "RECEIVED"
    assert client.get_event(str(case.id), silent.id).status == "RECEIVED"


def test_osl_message_and_closure_reach_the_si(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.patch_case(str(case.id), "DONE")

    message = services.osl_message(case, "L'usager a été informé.")
    closure = services.osl_close(case)

    events = [(n.event_id, n.event_action_type) for n in client.list_notifications(25)[1:]]
    assert events == [(str(message.id), "SENDING_MESSAGE"), (str(closure.id), "STATUS_UPDATE")]
    data = client.get_event(str(case.id), str(closure.id))
    assert (data.case_current_status, data.case_new_status) == ("DONE", "CLOSED")


def _return_payload(size: int) -> EventDraft:
    return EventDraft(
        ActionType.ATTACH_DEPOSIT,
        author="Agent de test",
        notification=True,
        attachments=(AttachmentDraft("attestation.pdf", "10870-PDF", size, "application/pdf"),),
    )


def test_si_returns_a_document(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    event = client.create_event(str(case.id), _return_payload(len(ATTESTATION)))
    assert event.status == "IN_PROGRESS"
    (attachment,) = event.attachments
    assert attachment.status == "PENDING"
    with pytest.raises(BadRequestError):  # not every file is there yet
        client.patch_event(str(case.id), event.id, "SENT")
    assert services.osl_notifications(subscription) == []

    client.upload_event_attachment(
        str(case.id),
        event.id,
        attachment.id,
        io.BytesIO(ATTESTATION),
        len(ATTESTATION),
        b64_sha256(ATTESTATION),
    )
    client.patch_event(str(case.id), event.id, "SENT")

    assert _osl_notified_events(subscription) == [(event.id, "SENT")]
    data = client.get_event(str(case.id), event.id)
    assert data.attachments[0].status == "RECEIVED"
    sink = io.BytesIO()
    client.download_event_attachment(str(case.id), event.id, attachment.id, sink, None)
    assert sink.getvalue() == ATTESTATION


def test_returned_documents_refused_when_the_demarche_does_not_allow_them(
    strict_subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    case = services.deposit_case(strict_subscription, files=etat_civil_files())

    with pytest.raises(BadRequestError) as caught:
        make_client(strict_subscription).create_event(str(case.id), _return_payload(10))

    assert "not allowed for this process" in caught.value.hubee_message
    assert not Event.objects.exists()


def test_upload_checks_size_and_digest(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = client.create_event(str(case.id), _return_payload(len(ATTESTATION)))
    url = f"{API}/cases/{case.id}/events/{event.id}/attachments/{event.attachments[0].id}"
    headers = bearer(raw, subscription)

    too_short = raw.put(url, data=ATTESTATION[:-1], headers=headers)
    too_long = raw.put(url, data=ATTESTATION + b"!", headers=headers)
    wrong_digest = raw.put(
        url, data=ATTESTATION, headers={**headers, "digest": b64_sha256(b"other")}
    )
    attachment = Attachment.objects.get(pk=event.attachments[0].id)
    assert [too_short.status_code, too_long.status_code, wrong_digest.status_code] == [400] * 3
    assert attachment.status == AttachmentStatus.PENDING

    prefixed = raw.put(
        url, data=ATTESTATION, headers={**headers, "digest": f"SHA-256={b64_sha256(ATTESTATION)}"}
    )
    assert prefixed.status_code == 204
    attachment.refresh_from_db()
    assert attachment.status == AttachmentStatus.RECEIVED


def test_upload_to_an_unknown_attachment(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = client.create_event(str(case.id), _return_payload(3))
    unknown = "0b3fbd0c-4c5d-4a8e-9f57-0e7dcb1d2f11"

    response = raw.put(
        f"{API}/cases/{case.id}/events/{event.id}/attachments/{unknown}",
        data=b"abc",
        headers=bearer(raw, subscription),
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Binary meta-data is not found"


def test_deleting_an_in_progress_deposit(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    deposit = client.create_event(str(case.id), _return_payload(3))
    status = client.create_event(str(case.id), status_event("SI_RECEIVED"))

    client.delete_event(str(case.id), deposit.id)
    with pytest.raises(BadRequestError):
        client.delete_event(str(case.id), status.id)

    with pytest.raises(NotFoundError) as caught:
        client.get_event(str(case.id), deposit.id)
    assert caught.value.hubee_message == "event is not found"
    assert not Attachment.objects.filter(pk=deposit.attachments[0].id).exists()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # A deposit without its attachments key: an EventDraft always lists its files.
        ({"actionType": "ATTACH_DEPOSIT", "notification": True}, "at least one attachment"),
        (
            status_event("IN_PROGRESS", attachments=_return_payload(1).attachments),
            "only",
        ),
        (EventDraft("ADD_AWAITING", notification=True), "Invalid actionType"),
        (EventDraft(ActionType.STATUS_UPDATE, notification=True), "needs a caseNewStatus"),
        (EventDraft(ActionType.SENDING_MESSAGE, notification=True), "needs a message"),
        ({"actionType": "COM_ADD"}, 'missing required properties (["notification"])'),
        (status_event("DONE", message="m" * 1001), "String is too long"),
        ({**status_event("DONE").to_api(), "notification": "yes"}, "Instance type (string)"),
    ],
)
def test_event_rules(
    subscription: Subscription,
    client: HubEEClient,
    payload: EventDraft | dict,
    expected: str,
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    with pytest.raises(BadRequestError) as caught:
        if isinstance(payload, EventDraft):
            client.create_event(str(case.id), payload)
        else:  # a body an EventDraft cannot express, sent as the client sends one
            post_event_body(client, str(case.id), payload)

    assert expected in caught.value.hubee_message
    assert not case.events.exists()
    assert _status(case) == "HUBEE_NOTIFIED"


def test_messages_refused_when_the_demarche_does_not_allow_them(
    strict_subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    case = services.deposit_case(strict_subscription, files=etat_civil_files())
    client = make_client(strict_subscription)

    with pytest.raises(BadRequestError) as caught:
        client.create_event(
            str(case.id), EventDraft(ActionType.SENDING_MESSAGE, notification=True, message="Hi")
        )
    with pytest.raises(BadRequestError):
        client.create_event(str(case.id), status_event("IN_PROGRESS", message="En cours"))
    with pytest.raises(services.SandboxError):
        services.osl_message(case, "Bonjour")

    assert caught.value.hubee_message == "Messages are not allowed for this process"
    assert not case.events.exists()
    # Without a message (or with an empty one) the status goes through.
    client.create_event(str(case.id), status_event("IN_PROGRESS", message=""))
    assert _status(case) == "IN_PROGRESS"


def test_method_override(
    subscription: Subscription, raw: requests.Session, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    event = services.osl_message(case, "Bonjour")
    headers = bearer(raw, subscription)
    override = {**headers, "X-HTTP-Method-Override": "PATCH"}

    case_patch = raw.post(f"{API}/cases/{case.id}", json={"status": "SENT"}, headers=override)
    event_patch = raw.post(
        f"{API}/cases/{case.id}/events/{event.id}", json={"status": "RECEIVED"}, headers=override
    )
    wrong_override = raw.post(
        f"{API}/cases/{case.id}",
        json={"status": "DONE"},
        headers={**headers, "X-HTTP-Method-Override": "DELETE"},
    )
    no_override = raw.post(f"{API}/cases/{case.id}", json={"status": "DONE"}, headers=headers)

    assert (case_patch.status_code, event_patch.status_code) == (204, 204)
    assert _status(case) == "SENT"
    event.refresh_from_db()
    assert event.status == EventStatus.RECEIVED
    for refused in (wrong_override, no_override):
        assert refused.status_code == 405
        assert refused.json() == {"errors": [{"code": 405, "message": "Method not allowed"}]}
    assert services.call_counts(method="PATCH").calls == 2


def test_lite_case_leaves_the_events_out(subscription: Subscription, client: HubEEClient) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(case.id), status_event("SI_RECEIVED"))

    lite = client.get_case(str(case.id), lite=True)
    full = client.get_case(str(case.id))

    assert "events" not in lite.raw
    assert len(full.events) == 1
    assert lite.raw["attachments"] == full.raw["attachments"]


def test_notifications_paging_order_and_filters(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    cases = [services.deposit_case(subscription, files=etat_civil_files()) for _ in range(30)]
    expected = [str(case.id) for case in cases]

    default_batch = raw.get(f"{API}/notifications", headers=bearer(raw, subscription)).json()
    first_two = client.list_notifications(2)
    other_code = client.list_notifications(25, process_codes=["CERTDC"])
    same_code = client.list_notifications(100, process_codes=["CERTDC", "EtatCivil"])

    assert [n["caseId"] for n in default_batch] == expected[:25]
    assert "eventActionType" not in default_batch[0]  # only with eventDetails=true
    assert [n.case_id for n in first_two] == expected[:2]
    assert other_code == []
    assert [n.case_id for n in same_code] == expected
    assert Notification.objects.filter(recipient_type=Party.SI).count() == 30
