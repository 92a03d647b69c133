"""Golden tests: the literal examples of API.md, byte for byte where they are literal.

Each example is copied here as the text API.md shows (our own developer reference, itself
quoting HubEE's public material); the sandbox must answer or accept exactly that.
"""

from __future__ import annotations

import json
import re
import uuid

import requests

from dossiers.enums import ActionType as OurActionType
from dossiers.exchange.outbound.queue import draft_for
from dossiers.models import OutgoingEvent
from hubee_portal.sandbox import services
from hubee_portal.sandbox.models import Subscription
from tests.sandbox.conftest import API, bearer
from tests.sandbox.helpers import etat_civil_files

# API.md §2.2 and §11 (ERR screenshot): the body of a 401 on an expired or invalid token.
GOLDEN_900901 = (
    '{"errors":[{"code":900901,"message":"Invalid Credentials : Invalid Credentials. '
    'Make sure you have given the correct access token"}]}'
)
# API.md §4.2 (CI24 example, ids elided there with "…").
GOLDEN_EVENT_DETAILS_NOTIFICATION = (
    '{"id":"…","processCode":"CERTDC","caseId":"…","eventId":"a66abb0c-…",'
    '"eventActionType":"STATUS_UPDATE","eventStatus":"SENT","dateTime":"2022-03-01T16:24:44.521Z"}'
)
# API.md §5.6 (CI24, SC2): the status change an SI posts.
GOLDEN_STATUS_UPDATE = (
    '{"actionType":"STATUS_UPDATE","author":"Service instructeur X","notification":true,'
    '"caseNewStatus":"SENT","message":"Changement de statut à SENT"}'
)
# API.md §4.5 (OC-QF fixture of an event made in the HubEE portal): the keys of an Event.
GOLDEN_EVENT_KEYS = (
    '{"actionType":"STATUS_UPDATE","attachments":[],"author":"John Doe",'
    '"caseCurrentStatus":"SENT","caseNewStatus":"SI_RECEIVED","comment":"",'
    '"createDateTime":"2024-07-04T08:54:15.438+00:00","id":"…","message":"","notification":true,'
    '"partnerAttributes":null,"partnerInfo":{},"status":"SENT","transmitter":{"type":"SI"},'
    '"updateDateTime":null}'
)
HUBEE_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def _is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def test_expired_or_missing_token_answers_the_900901_body_literally(
    raw: requests.Session, subscription: Subscription
) -> None:
    response = raw.get(f"{API}/notifications", headers={"Authorization": "Bearer expiré"})

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(GOLDEN_900901)
    # Same text once serialised compactly, as HubEE writes it.
    assert json.dumps(response.json(), separators=(",", ":")) == GOLDEN_900901


def test_event_details_notification_has_the_ci24_shape(raw: requests.Session, db: None) -> None:
    certdc = services.create_subscription("CERTDC", "client-certdc", "secret-certdc")
    case = services.deposit_case(certdc, files=etat_civil_files())
    closure = services.osl_close(case)  # an OSL STATUS_UPDATE: the SI is notified
    golden = json.loads(GOLDEN_EVENT_DETAILS_NOTIFICATION)

    listed = raw.get(
        f"{API}/notifications",
        params={"eventDetails": "true", "maxResult": "25"},
        headers=bearer(raw, certdc),
    ).json()

    new_case, event = listed
    # CI24 shows no recipient/transmitter; SW requires them: the golden keys plus those two.
    assert set(event) == set(golden) | {"recipient", "transmitter"}
    for key in ("processCode", "eventActionType", "eventStatus"):
        assert event[key] == golden[key]
    assert event["caseId"] == str(case.id) and _is_uuid(event["caseId"])
    assert event["eventId"] == str(closure.id) and _is_uuid(event["eventId"])
    assert _is_uuid(event["id"])
    assert HUBEE_DATE_TIME.match(event["dateTime"])
    assert HUBEE_DATE_TIME.match(golden["dateTime"])  # the pattern does accept CI24's value
    # "for a new case eventId, eventActionType, eventStatus are null".
    assert set(new_case) == set(event)
    assert (new_case["eventId"], new_case["eventActionType"], new_case["eventStatus"]) == (
        None,
        None,
        None,
    )
    # Without eventDetails, the two fields are absent (they are not in SW).
    plain = raw.get(f"{API}/notifications", headers=bearer(raw, certdc)).json()
    assert "eventActionType" not in plain[1] and "eventStatus" not in plain[1]


def test_status_update_body_is_accepted_as_written(
    raw: requests.Session, subscription: Subscription
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())

    response = raw.post(
        f"{API}/cases/{case.id}/events",
        data=GOLDEN_STATUS_UPDATE.encode("utf-8"),
        headers={**bearer(raw, subscription), "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    event = response.json()
    golden = json.loads(GOLDEN_STATUS_UPDATE)
    assert {key: event[key] for key in golden} == golden
    assert (event["status"], event["caseCurrentStatus"]) == ("SENT", "HUBEE_NOTIFIED")
    assert services.case_as_hubee_sees_it(case)["status"] == "SENT"
    assert set(event) == set(json.loads(GOLDEN_EVENT_KEYS))


def test_our_status_push_has_the_golden_shape(db: None) -> None:
    """The portal's outbox writes the §5.6 body: same keys, same types, same order."""
    outgoing = OutgoingEvent(
        action_type=OurActionType.STATUS_UPDATE,
        case_new_status="SENT",
        author="Service instructeur X",
        message="Changement de statut à SENT",
    )

    payload = draft_for(outgoing).to_api()

    assert payload == json.loads(GOLDEN_STATUS_UPDATE)
    assert json.dumps(payload, ensure_ascii=False, separators=(",", ":")) == GOLDEN_STATUS_UPDATE
