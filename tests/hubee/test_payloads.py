"""Typed HubEE payloads: required fields raise naming the field, tolerated variants parse,
to_api round-trips, and EventDraft writes today's request bodies byte for byte."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hubee_portal.hubee import (
    ActionType,
    Applicant,
    Attachment,
    AttachmentDraft,
    Case,
    Event,
    EventDraft,
    InvalidPayloadError,
    Reason,
)
from tests.hubee.helpers import ATTACHMENT_ID, CASE_ID, EVENT_ID, OTHER_EVENT_ID

SI = {"type": "SI", "companyRegister": "21750001600019", "branchCode": "75056"}
OSL = {"type": "OSL", "companyRegister": "13002526500013", "branchCode": "00000"}


def attachment(**changes: Any) -> dict[str, Any]:
    data = {
        "id": ATTACHMENT_ID,
        "status": "RECEIVED",
        "fileName": "Demande.xml",
        "type": "FORM",
        "size": 1234,
        "mimeType": "application/xml",
    }
    data.update(changes)
    return data


def event(**changes: Any) -> dict[str, Any]:
    data = {
        "id": EVENT_ID,
        "transmitter": OSL,
        "status": "SENT",
        "actionType": "SENDING_MESSAGE",
        "notification": True,
        "createDateTime": "2024-03-01T10:00:00+01:00",
        "updateDateTime": "2024-03-01T10:05:00+01:00",
        "message": "Voici la pièce",
        "comment": None,
        "author": "Usager",
        "caseCurrentStatus": "IN_PROGRESS",
        "caseNewStatus": None,
        "partnerAttributes": None,
        "attachments": [attachment()],
        "partnerInfo": {
            "editorName": None,
            "applicationName": "Service Public",
            "softwareVersion": "1",
        },
    }
    data.update(changes)
    return data


def case(**changes: Any) -> dict[str, Any]:
    data = {
        "id": CASE_ID,
        "status": "SENT",
        "recipient": SI,
        "externalId": "EC-2024-000123",
        "processCode": "EtatCivil",
        "createDateTime": "2024-03-01T09:00:00+01:00",
        "updateDateTime": "2024-03-01T09:30:00Z",
        "transmissionDateTime": "2024-03-01T09:01:00Z",
        "closeDateTime": None,
        "partnerAttributes": '{"x": 1}',
        "applicant": {"firstName": "Jeanne", "lastName": "Martin", "email": "j@example.org"},
        "attachments": [attachment()],
        "events": [event()],
    }
    data.update(changes)
    return data


def without(data: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """A deep copy of `data` without the key at `path`."""
    copied = copy.deepcopy(data)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copied


def test_a_full_case_parses() -> None:
    parsed = Case.from_api(case())
    assert parsed.id == CASE_ID
    assert parsed.status == "SENT"
    assert parsed.recipient.company_register == "21750001600019"
    assert parsed.external_id == "EC-2024-000123"
    assert parsed.process_code == "EtatCivil"
    assert parsed.create_date_time == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert parsed.close_date_time is None
    assert parsed.applicant == Applicant("Jeanne", "Martin", "j@example.org", raw={})
    assert parsed.attachments[0].size == 1234
    (first,) = parsed.events
    assert first.transmitter.type == "OSL"
    assert first.action_type == ActionType.SENDING_MESSAGE
    assert first.partner_info is not None
    assert first.partner_info.application_name == "Service Public"
    assert first.attachments[0].file_name == "Demande.xml"
    assert parsed.raw == case()
    assert parsed.without_events() == without(case(), "events")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("id",), "id"),
        (("status",), "status"),
        (("recipient",), "recipient"),
        (("recipient", "companyRegister"), "recipient.companyRegister"),
        (("externalId",), "externalId"),
        (("processCode",), "processCode"),
        (("createDateTime",), "createDateTime"),
        (("applicant", "firstName"), "applicant.firstName"),
        (("applicant", "lastName"), "applicant.lastName"),
        (("attachments", 0, "size"), "attachments[0].size"),
        (("attachments", 0, "mimeType"), "attachments[0].mimeType"),
        (("events", 0, "id"), "events[0].id"),
        (("events", 0, "transmitter"), "events[0].transmitter"),
        (("events", 0, "transmitter", "branchCode"), "events[0].transmitter.branchCode"),
        (("events", 0, "status"), "events[0].status"),
        (("events", 0, "attachments", 0, "fileName"), "events[0].attachments[0].fileName"),
    ],
)
def test_a_missing_required_field_is_named(path: tuple[str | int, ...], field: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        Case.from_api(without(case(), *path))
    assert caught.value.field == field
    assert field in str(caught.value)
    assert caught.value.reason is Reason.INVALID_PAYLOAD


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"externalId": "   "}, "externalId"),  # names the dossier's folder
        ({"externalId": None}, "externalId"),
        ({"createDateTime": "hier"}, "createDateTime"),
        ({"attachments": [attachment(size="12")]}, "attachments[0].size"),
        ({"attachments": [attachment(size=True)]}, "attachments[0].size"),
        ({"attachments": [attachment(id="x")]}, "attachments[0].id"),
        ({"attachments": "none"}, "attachments"),
        ({"events": ["oops"]}, "events[0]"),
    ],
)
def test_an_invalid_required_field_is_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        Case.from_api(case(**changes))
    assert caught.value.field == field


def test_not_an_object() -> None:
    for item in (None, [], "case"):
        with pytest.raises(InvalidPayloadError):
            Case.from_api(item)
        with pytest.raises(InvalidPayloadError):
            Event.from_api(item)
        with pytest.raises(InvalidPayloadError):
            Attachment.from_api(item)


def test_tolerated_variants_still_parse() -> None:
    """What today's ingestion accepts (dossiers/sync.py store_case, store_event)."""
    no_email = case(applicant={"firstName": "Jeanne", "lastName": "Martin"})
    assert Case.from_api(no_email).applicant.email is None
    null_email = case(applicant={"firstName": "Jeanne", "lastName": "Martin", "email": None})
    assert Case.from_api(null_email).applicant.email is None
    assert Case.from_api(without(case(), "applicant")).applicant is None
    assert Case.from_api(case(applicant=None)).applicant is None
    assert Case.from_api(case(partnerAttributes=None)).partner_attributes is None
    assert Case.from_api(without(case(), "partnerAttributes")).partner_attributes is None
    unknown = case(newField={"a": 1}, status="SOMETHING_NEW")
    parsed = Case.from_api(unknown)
    assert parsed.status == "SOMETHING_NEW"  # kept raw: the mapping ignores it
    assert parsed.raw["newField"] == {"a": 1}
    bare = without(without(without(case(), "attachments"), "events"), "updateDateTime")
    parsed = Case.from_api(bare)
    assert (parsed.attachments, parsed.events, parsed.update_date_time) == ((), (), None)
    assert Case.from_api(case(attachments=None, events=None)).events == ()
    assert Case.from_api(case(closeDateTime="pas une date")).close_date_time is None
    assert Case.from_api(case(externalId="  EC-1 ")).external_id == "EC-1"


def test_tolerated_event_variants() -> None:
    # Required by the schema but nullable: absent or null reads as None.
    sparse = event()
    for key in ("actionType", "notification", "createDateTime", "updateDateTime"):
        del sparse[key]
    for key in ("message", "comment", "author", "partnerInfo", "attachments"):
        del sparse[key]
    parsed = Event.from_api(sparse)
    assert (parsed.action_type, parsed.notification, parsed.create_date_time) == (None, None, None)
    assert (parsed.message, parsed.author, parsed.partner_info, parsed.attachments) == (
        None,
        None,
        None,
        (),
    )
    assert Event.from_api(event(partnerInfo=None, extra=1)).partner_info is None
    assert Event.from_api(event(actionType="NEW_KIND")).action_type == "NEW_KIND"


def test_attachment_ids_and_statuses_are_normalised() -> None:
    parsed = Attachment.from_api(attachment(id=ATTACHMENT_ID.upper(), status="corrupted"))
    assert parsed.id == ATTACHMENT_ID
    assert parsed.status == "CORRUPTED"


def test_round_trip() -> None:
    parsed = Case.from_api(case())
    assert Case.from_api(parsed.to_api()) == parsed
    two_events = case(events=[event(), event(id=OTHER_EVENT_ID, partnerInfo=None)])
    parsed = Case.from_api(two_events)
    assert Case.from_api(json.loads(json.dumps(parsed.to_api()))) == parsed
    single = Event.from_api(event())
    assert Event.from_api(single.to_api()) == single
    assert Attachment.from_api(attachment()).to_api() == attachment()
    # Canonical JSON (UTC dates, every key) comes back as it went.
    canonical = Case.from_api(case()).to_api()
    assert Case.from_api(canonical).to_api() == canonical


def test_a_case_without_applicant_has_none_in_its_json() -> None:
    assert "applicant" not in Case.from_api(case(applicant=None)).to_api()


BASE_BODY = '"actionType": "STATUS_UPDATE", "author": "Agent Dupont"'


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({}, f'{{{BASE_BODY}, "notification": true, "caseNewStatus": "DONE"}}'),
        (
            {"message": "Traité"},
            f'{{{BASE_BODY}, "notification": true, "caseNewStatus": "DONE", "message": "Traité"}}',
        ),
        (
            {"message": "", "comment": "interne", "current_status": "IN_PROGRESS"},
            f'{{{BASE_BODY}, "notification": true, "caseNewStatus": "DONE", '
            '"caseCurrentStatus": "IN_PROGRESS", "message": "", "comment": "interne"}',
        ),
        (
            {"notification": False},
            f'{{{BASE_BODY}, "notification": false, "caseNewStatus": "DONE"}}',
        ),
    ],
)
def test_status_update_draft_writes_todays_body(kwargs: dict[str, Any], body: str) -> None:
    # The bytes data.status_update_payload wrote before EventDraft replaced it.
    draft = EventDraft.status_update("DONE", author="Agent Dupont", **kwargs)
    assert json.dumps(draft.to_api(), ensure_ascii=False) == body


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("",), {"author": "A"}),
        (("DONE",), {"author": " "}),
        (("DONE",), {"author": "A" * 256}),
        (("DONE",), {"author": "A", "message": "m" * 1001}),
        (("DONE",), {"author": "A", "comment": "c" * 1001}),
    ],
)
def test_status_update_draft_refuses_what_hubee_would(
    args: tuple[str, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        EventDraft.status_update(*args, **kwargs)


def test_deposit_and_message_drafts_write_the_outboxs_body() -> None:
    # The same keys, in the same order, as the outbox's payload_for wrote them.
    deposit = EventDraft(
        action_type=ActionType.ATTACH_DEPOSIT,
        author="Agent Dupont",
        message="Les pièces demandées",
        attachments=(AttachmentDraft("acte.pdf", "DOCUMENT", 42, "application/pdf"),),
    )
    assert json.dumps(deposit.to_api()) == json.dumps(
        {
            "actionType": "ATTACH_DEPOSIT",
            "author": "Agent Dupont",
            "notification": True,
            "message": "Les pièces demandées",
            "attachments": [
                {
                    "fileName": "acte.pdf",
                    "type": "DOCUMENT",
                    "size": 42,
                    "mimeType": "application/pdf",
                }
            ],
        }
    )
    message = EventDraft(action_type=ActionType.SENDING_MESSAGE, author="A", message="Bonjour")
    assert message.to_api() == {
        "actionType": "SENDING_MESSAGE",
        "author": "A",
        "notification": True,
        "message": "Bonjour",
    }
    assert "attachments" in EventDraft(action_type=ActionType.ATTACH_DEPOSIT).to_api()


@pytest.mark.parametrize(
    ("fields", "files"),
    [
        ({"action_type": "STATUS_UPDATE", "case_new_status": "DONE", "message": "Fini"}, None),
        ({"action_type": "SENDING_MESSAGE", "message": "Bonjour"}, None),
        ({"action_type": "ATTACH_DEPOSIT", "message": "Pièces"}, [("acte.pdf", "DOC", 4, "a/b")]),
    ],
)
def test_drafts_match_the_outbox_today(fields: dict[str, Any], files: Any) -> None:
    from dossiers.exchange.outbound.queue import draft_for
    from dossiers.models import OutgoingAttachment, OutgoingEvent

    outgoing = OutgoingEvent(author="Agent Dupont", **fields)
    rows = [
        OutgoingAttachment(file_name=n, attachment_type=t, size=s, mime_type=m)
        for n, t, s, m in files or []
    ]
    draft = EventDraft(
        action_type=fields["action_type"],
        author="Agent Dupont",
        case_new_status=fields.get("case_new_status"),
        message=fields.get("message"),
        attachments=tuple(AttachmentDraft(*file) for file in files or []),
    )
    assert json.dumps(draft.to_api()) == json.dumps(draft_for(outgoing, rows).to_api())
