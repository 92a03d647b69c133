"""Mapper on its own: a HubEE payload (as received) in, rows out, no HTTP and no thread."""

from __future__ import annotations

import uuid

import pytest

from dossiers.enums import AttachmentState
from dossiers.exchange.inbound.errors import FOREIGN_CASE, InvalidDataError
from dossiers.exchange.inbound.mapping import Mapper
from dossiers.models import Dossier
from hubee_portal.hubee import Case, InvalidPayloadError
from tests.factories import DemarcheFactory, DossierFactory

pytestmark = pytest.mark.django_db


def case_payload(case_id: str, **overrides) -> Case:
    """The case as HubEE sends it, read as the client reads it."""
    case = {
        "id": case_id,
        "recipient": {"type": "SI", "companyRegister": "21750001600019", "branchCode": "75056"},
        "externalId": "DILA-AEC-0000000000001-01",
        "processCode": "EtatCivil",
        "status": "SENT",
        "applicant": {"firstName": "Camille", "lastName": "Martin", "email": "cm@ex.fr"},
        "partnerAttributes": "<xml/>",
        "createDateTime": "2026-01-05T10:00:00.000+01:00",
        "attachments": [],
        "events": [
            {
                "id": str(uuid.uuid4()),
                "transmitter": {"type": "OSL", "companyRegister": "1", "branchCode": "2"},
                "status": "SENT",
                "actionType": "STATUS_UPDATE",
            }
        ],
    }
    case.update(overrides)
    return Case.from_api(case)


@pytest.fixture
def mapper(tmp_path) -> Mapper:
    demarche = DemarcheFactory(process_code="EtatCivil", download_folder=str(tmp_path))
    return Mapper(demarche, tmp_path)


def test_a_case_becomes_a_dossier_with_its_raw_json_without_events(mapper):
    case_id = str(uuid.uuid4())
    dossier, created = mapper.store_case(case_id, case_payload(case_id))
    assert created
    dossier.refresh_from_db()
    assert dossier.demarche == mapper.demarche
    assert dossier.external_id == "DILA-AEC-0000000000001-01"
    assert dossier.status == "SENT"
    assert (dossier.applicant_first_name, dossier.applicant_email) == ("Camille", "cm@ex.fr")
    assert dossier.partner_attributes == "<xml/>"
    assert dossier.hubee_created_at is not None
    assert dossier.folder_name
    assert "events" not in dossier.raw and dossier.raw["id"] == case_id


@pytest.mark.parametrize(
    "variant",
    [
        {"applicant": {"firstName": "Camille", "lastName": "Martin"}},  # no e-mail
        {"applicant": None},
        {"partnerAttributes": None},
        {"unknownField": {"nested": [1, 2]}, "anotherNewOne": "x"},  # HubEE added fields
        {"status": "NOT_A_STATUS"},
    ],
    ids=["no-email", "null-applicant", "null-partner-attributes", "extra-fields", "odd-status"],
)
def test_tolerated_variants_are_still_ingested(mapper, variant):
    case_id = str(uuid.uuid4())
    dossier, created = mapper.store_case(case_id, case_payload(case_id, **variant))
    assert created
    dossier.refresh_from_db()
    assert dossier.external_id == "DILA-AEC-0000000000001-01"
    if "applicant" in variant:
        assert dossier.applicant_email == ""
    if "partnerAttributes" in variant:
        assert dossier.partner_attributes == ""
    if "unknownField" in variant:
        assert dossier.raw["unknownField"] == {"nested": [1, 2]}
    if variant.get("status") == "NOT_A_STATUS":
        assert dossier.status == "HUBEE_NOTIFIED"


def test_a_case_without_external_id_or_of_another_id_is_refused(mapper):
    case_id = str(uuid.uuid4())
    # A blank externalId is refused when the case is read (the mapper refused it before).
    with pytest.raises(InvalidPayloadError) as blank:
        case_payload(case_id, externalId="  ")
    assert blank.value.field == "externalId"
    with pytest.raises(InvalidDataError, match="ne correspond pas"):
        mapper.store_case(case_id, case_payload(str(uuid.uuid4())))
    assert not Dossier.objects.exists()


def test_a_known_case_is_updated_in_place(mapper):
    case_id = str(uuid.uuid4())
    dossier, _ = mapper.store_case(case_id, case_payload(case_id))
    again, created = mapper.store_case(
        case_id, case_payload(case_id, status="SI_RECEIVED"), known=dossier
    )
    assert not created and again.pk == dossier.pk
    assert Dossier.objects.get().status == "SI_RECEIVED"


def test_another_demarches_case_is_never_touched(mapper):
    other = DossierFactory()
    with pytest.raises(InvalidDataError) as refused:
        mapper.own_case(other)
    assert str(refused.value) == FOREIGN_CASE


def test_attachments_get_rows_and_distinct_paths_before_any_download(mapper):
    case_id = str(uuid.uuid4())
    dossier, created = mapper.store_case(case_id, case_payload(case_id))
    # What the OpenAPI file requires is checked when the case is read (Case.from_api): a size
    # that is no integer, a null name or status no longer reach the mapper. These are the
    # variants still allowed: same name twice, a negative size, a blank name, an unknown status.
    first_id = str(uuid.uuid4()).upper()
    files = [
        {"id": first_id, "fileName": "a.pdf", "status": "RECEIVED", "size": 12},
        {"id": str(uuid.uuid4()), "fileName": "a.pdf", "status": "DELETED", "size": -1},
        {"id": str(uuid.uuid4()), "fileName": "", "status": "NEW_STATUS", "extra": True},
    ]
    attachments = case_payload(
        case_id,
        attachments=[{"type": "PJ", "mimeType": "application/pdf", "size": 3, **f} for f in files],
    ).attachments
    pieces = mapper.store_attachments(dossier, attachments, event=None, new_dossier=created)
    assert [p.hubee_attachment_id for p in pieces][0] == first_id.lower()
    paths = [p.stored_path for p in pieces]
    assert len(set(paths)) == 3 and all(p.startswith(f"{dossier.folder_name}/") for p in paths)
    assert [p.state for p in pieces] == [
        AttachmentState.PENDING,
        AttachmentState.UNAVAILABLE,
        AttachmentState.PENDING,
    ]
    assert pieces[0].size == 12 and pieces[1].size is None
    assert "purge" in pieces[1].state_detail
    # Stored again: nothing new.
    assert mapper.store_attachments(dossier, attachments, event=None) == []


def test_an_attachment_without_a_valid_id_is_refused(mapper):
    case_id = str(uuid.uuid4())
    dossier, _ = mapper.store_case(case_id, case_payload(case_id))
    # Refused when the case is read, before the mapper (it refused it itself before).
    with pytest.raises(InvalidPayloadError) as refused:
        case_payload(case_id, attachments=[{"id": "nope"}])
    assert refused.value.field == "attachments[0].id"
    assert not dossier.pieces_jointes.exists()
