"""A NUL character in what HubEE sends (a name, a message, a file name): PostgreSQL refuses it in
text and JSON columns, so the case could never be stored and its notification would fail at
every run. The client reads every JSON answer with NUL replaced by U+FFFD (the replacement
character): the case is stored, on both databases, and the name shows where the NUL was."""

from __future__ import annotations

import json
import uuid

import pytest

from dossiers.exchange.inbound.mapping import Mapper
from dossiers.models import Dossier
from tests.factories import DemarcheFactory
from tests.hubee.test_bounds_answers import CountingBody, LazyHubEE, client_for

pytestmark = pytest.mark.django_db

NUL, REPLACEMENT = "\x00", "\ufffd"


def case_with_nul(case_id: str) -> bytes:
    case = {
        "id": case_id,
        "recipient": {"type": "SI", "companyRegister": "21750001600019", "branchCode": "75056"},
        "externalId": "DILA-AEC-0000000000001-01",
        "processCode": "EtatCivil",
        "status": "SENT",
        "applicant": {"firstName": f"Ca{NUL}mille", "lastName": "Martin", "email": "cm@ex.fr"},
        "partnerAttributes": f"<xml>{NUL}</xml>",
        "createDateTime": "2026-01-05T10:00:00.000+01:00",
        "attachments": [],
        "events": [
            {
                "id": str(uuid.uuid4()),
                "transmitter": {"type": "OSL", "companyRegister": "1", "branchCode": "2"},
                "status": "SENT",
                "actionType": "SENDING_MESSAGE",
                "message": f"Bonjour{NUL}",
            }
        ],
    }
    return json.dumps(case).encode()  # NUL written as \u0000, as a JSON encoder does


def test_a_nul_from_hubee_is_replaced_and_the_case_stored(tmp_path):
    case_id = str(uuid.uuid4())
    body = case_with_nul(case_id)
    client = client_for(LazyHubEE(CountingBody(len(body), head=body)))
    case = client.get_case(case_id)

    demarche = DemarcheFactory(process_code="EtatCivil", download_folder=str(tmp_path))
    mapper = Mapper(demarche, tmp_path)
    dossier, created = mapper.store_case(case_id, case)
    mapper.store_event(dossier, case.events[0], case.events[0].id)

    stored = Dossier.objects.get(pk=dossier.pk)
    assert stored.applicant_first_name == f"Ca{REPLACEMENT}mille"
    assert stored.partner_attributes == f"<xml>{REPLACEMENT}</xml>"
    assert stored.raw["applicant"]["firstName"] == f"Ca{REPLACEMENT}mille"
    assert stored.evenements.get().message == f"Bonjour{REPLACEMENT}"
