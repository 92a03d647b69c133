"""Mapper on its own: a HubEE payload (as received) in, rows out, no HTTP and no thread."""

from __future__ import annotations

import uuid

import pytest

from dossiers.enums import AttachmentState
from dossiers.exchange.inbound.errors import FOREIGN_CASE, InvalidDataError
from dossiers.exchange.inbound.mapping import Mapper
from dossiers.models import Dossier
from tests.factories import DemarcheFactory, DossierFactory

pytestmark = pytest.mark.django_db


def case_payload(case_id: str, **overrides) -> dict:
    case = {
        "id": case_id,
        "externalId": "DILA-AEC-0000000000001-01",
        "processCode": "EtatCivil",
        "status": "SENT",
        "applicant": {"firstName": "Camille", "lastName": "Martin", "email": "cm@ex.fr"},
        "partnerAttributes": "<xml/>",
        "createDateTime": "2026-01-05T10:00:00.000+01:00",
        "attachments": [],
        "events": [{"id": str(uuid.uuid4())}],
    }
    case.update(overrides)
    return case


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
    with pytest.raises(InvalidDataError, match="externalId"):
        mapper.store_case(case_id, case_payload(case_id, externalId="  "))
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
    attachments = [
        {"id": str(uuid.uuid4()).upper(), "fileName": "a.pdf", "status": "RECEIVED", "size": 12},
        {"id": str(uuid.uuid4()), "fileName": "a.pdf", "status": "DELETED", "size": "?"},
        {"id": str(uuid.uuid4()), "fileName": None, "status": None, "extra": True},
    ]
    pieces = mapper.store_attachments(dossier, attachments, event=None, new_dossier=created)
    assert [p.hubee_attachment_id for p in pieces][0] == attachments[0]["id"].lower()
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
    with pytest.raises(InvalidDataError, match="identifiant"):
        mapper.store_attachments(dossier, [{"id": "nope"}], event=None)
