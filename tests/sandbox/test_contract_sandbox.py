"""Contract conformance both ways, against HubEE's own OpenAPI file (API.md §3).

The sandbox checks every request against `api_folder_v1.2.7.yaml` and answers 400 as HubEE's
gateway does, so our client is checked against the real contract; and here every answer the
sandbox gives, during a whole exchange driven by our real client and sync, is checked against it
too, independently of the sandbox's own check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.conf import settings
from django.utils import timezone
from werkzeug.datastructures import Headers

CONTRACT_FILE = "api_folder_v1.2.7.yaml"
CONTRACT_PATH = str(getattr(settings, "HUBEE_SANDBOX_OPENAPI", "") or "")

if not CONTRACT_PATH or not Path(CONTRACT_PATH).is_file():
    pytest.skip(
        f"Contrat OpenAPI de HubEE absent : ../shared/hubee/openapi/{CONTRACT_FILE} n'existe pas "
        "à côté du dépôt (référence publique, jamais copiée dans le dépôt ; la CI l'a). Sans lui, "
        "ni les requêtes ni les réponses du bac à sable ne peuvent être confrontées au contrat : "
        "ces tests de conformité n'ont pas été lancés.",
        allow_module_level=True,
    )

from dossiers.exchange.inbound.listing import sync_demarche  # noqa: E402
from dossiers.models import Dossier  # noqa: E402
from hubee_portal.hubee import (  # noqa: E402
    ActionType,
    AttachmentDraft,
    BadRequestError,
    EventDraft,
    HubEEClient,
    HubEEConfig,
    NotFoundError,
)
from hubee_portal.sandbox import contract, services  # noqa: E402
from hubee_portal.sandbox.models import Subscription  # noqa: E402
from hubee_portal.sandbox.openapi_contract import (  # noqa: E402
    ContractRequest,
    ContractResponse,
    load,
)
from hubee_portal.sandbox.transport import SandboxAdapter  # noqa: E402
from tests.factories import DemarcheFactory, HubEEConnectionFactory  # noqa: E402
from tests.sandbox.conftest import API, API_URL, BASE, TOKEN_URL, bearer  # noqa: E402
from tests.sandbox.helpers import (  # noqa: E402
    PDF,
    etat_civil_files,
    post_event_body,
    status_event,
)

ROOT = "/sandbox"


class Checked:
    """Every API answer of a session, checked against the contract on the client's side."""

    def __init__(self) -> None:
        self.contract = load(CONTRACT_PATH)
        self.session = requests.Session()
        self.session.mount(f"{BASE}/", SandboxAdapter())
        self.session.hooks["response"].append(self._check)
        self.seen: list[tuple[str, str, int]] = []
        self.violations: list[str] = []

    def _check(self, response: requests.Response, **_: Any) -> None:
        prepared = response.request
        url = urlsplit(prepared.url or "")
        path = url.path.removeprefix(ROOT)
        if not path.startswith("/teledossiers/v1/"):
            return  # the token endpoint is not in the Folder API contract
        body = prepared.body
        request = ContractRequest(
            method=prepared.method or "GET",
            path=path,
            query=parse_qsl(url.query, keep_blank_values=True),
            headers=dict(prepared.headers),
            content_type=prepared.headers.get("Content-Type", ""),
            body=body if isinstance(body, bytes) else None,
        )
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        if content_type == "application/octet-stream":
            data = contract.STREAMED_PLACEHOLDER  # a file: left for the client to stream
        else:
            data = response.content
            content_type = content_type if data else ""
        answer = ContractResponse(
            status_code=response.status_code,
            headers=Headers(list(response.headers.items())),
            content_type=content_type,
            data=data,
        )
        template = self.contract.template(path) or path
        self.seen.append((request.method.upper(), template, response.status_code))
        for violation in self.contract.response_violations(request, answer):
            self.violations.append(violation.line("RESPONSE", request.method.upper(), path))


@pytest.fixture
def checked(db: None) -> Iterator[Checked]:
    contract.clear_recorded()
    checker = Checked()
    yield checker
    checker.session.close()


def _client(checked: Checked, subscription: Subscription) -> HubEEClient:
    config = HubEEConfig(
        token_url=TOKEN_URL,
        api_url=API_URL,
        client_id=subscription.client_id,
        client_secret=subscription.client_secret,
        editor_name="COMMUNE DE NICE",
        application_name="HubEE Portal (tests)",
        software_version="0.1.0",
    )
    return HubEEClient(config, session=checked.session, sleep=lambda seconds: None)


# -- both ways, over a whole exchange -----------------------------------------------------------


def test_every_answer_of_a_whole_exchange_validates(
    checked: Checked, subscription: Subscription, tmp_path: Path
) -> None:
    """Deposit → sync (new cases, files, statuses) → OSL events of every kind → sync, and every
    other SI route (document return, PATCH, override, DELETE, errors): no request refused, no
    answer outside the contract."""
    connection = HubEEConnectionFactory(
        name="Bac à sable", environment="autre", token_url=TOKEN_URL, api_url=API_URL
    )
    demarche = DemarcheFactory(
        process_code="EtatCivil",
        connection=connection,
        client_id=subscription.client_id,
        client_secret=subscription.client_secret,
        download_folder=str(tmp_path / "etat-civil"),
        allows_messages=True,
        allows_document_return=True,
    )
    client = _client(checked, subscription)
    cases = [services.deposit_case(subscription, files=etat_civil_files()) for _ in range(3)]

    sync_demarche(demarche, client=client, concurrency=1)
    services.osl_attach_deposit(cases[0], [("ajout.pdf", "jf", "application/pdf", PDF)])
    services.osl_message(cases[1], "Un message de l'usager")
    services.osl_close(cases[2])
    ours = Dossier.objects.get(hubee_case_id=cases[1].id).evenements.get(direction="sent")
    services.osl_acknowledge(services.event(ours.hubee_event_id))
    sync_demarche(demarche, client=client, concurrency=1)

    # The routes the sync does not use, through the same client.
    case_id = str(cases[0].id)
    returned = client.create_event(
        case_id,
        EventDraft(
            ActionType.ATTACH_DEPOSIT,
            author="Agent de test",
            notification=True,
            attachments=(
                AttachmentDraft("attestation.pdf", "10870-PDF", len(PDF), "application/pdf"),
            ),
        ),
    )
    attachment_id = returned.attachments[0].id
    client.upload_event_attachment(case_id, returned.id, attachment_id, _bytes_io(PDF), len(PDF))
    client.patch_event(case_id, returned.id, "SENT")
    client.get_event(case_id, returned.id)
    client.get_case(case_id, lite=True)
    draft = client.create_event(
        case_id,
        EventDraft(
            ActionType.ATTACH_DEPOSIT,
            author="Agent de test",
            notification=True,
            attachments=(AttachmentDraft("brouillon.pdf", "t", 3, "application/pdf"),),
        ),
    )
    client.delete_event(case_id, draft.id)
    client.patch_case(case_id, "DONE")
    headers = bearer(checked.session, subscription)
    override = {**headers, "X-HTTP-Method-Override": "PATCH"}
    checked.session.post(f"{API}/cases/{cases[1].id}", json={"status": "DONE"}, headers=override)
    # Error answers: 401, 403, 404, 405 and the gateway's own 400.
    other = services.create_subscription("CERTDC", "client-certdc", "secret-certdc")
    foreign = services.deposit_case(other, files=etat_civil_files())
    checked.session.get(f"{API}/notifications")
    checked.session.get(f"{API}/cases/{foreign.id}", headers=headers)
    checked.session.get(f"{API}/cases/{foreign.id}/events/{returned.id}", headers=headers)
    checked.session.delete(f"{API}/notifications/{returned.id}", headers=headers)
    checked.session.post(f"{API}/cases/{case_id}", json={"status": "DONE"}, headers=headers)
    checked.session.get(f"{API}/notifications", params={"maxResult": "x"}, headers=headers)

    assert checked.violations == []
    assert contract.recorded() == []  # nor did the sandbox's own check refuse an answer
    assert Dossier.objects.count() == 3
    assert services.pending_si_notifications(subscription) == 0
    routes = {(method, template) for method, template, _ in checked.seen}
    assert routes >= {
        ("GET", "/notifications"),
        ("DELETE", "/notifications/{notificationId}"),
        ("GET", "/cases/{caseId}"),
        ("PATCH", "/cases/{caseId}"),
        ("POST", "/cases/{caseId}"),
        ("GET", "/cases/{caseId}/attachments/{attachmentId}"),
        ("POST", "/cases/{caseId}/events"),
        ("GET", "/cases/{caseId}/events/{eventId}"),
        ("PATCH", "/cases/{caseId}/events/{eventId}"),
        ("DELETE", "/cases/{caseId}/events/{eventId}"),
        ("GET", "/cases/{caseId}/events/{eventId}/attachments/{attachmentId}"),
        ("PUT", "/cases/{caseId}/events/{eventId}/attachments/{attachmentId}"),
    }
    statuses = {status for _, _, status in checked.seen}
    assert statuses >= {200, 201, 204, 400, 401, 403, 404, 405}
    refused = [seen for seen in checked.seen if seen[2] == 400]
    assert refused == [("GET", "/notifications", 400)]  # only the bad maxResult above


def test_purged_archived_deleted_and_throttled_answers_validate(
    checked: Checked, subscription: Subscription, tmp_path: Path
) -> None:
    """HubEE's purge (DELETED files, ARCHIVED case, deleted case) and the gateway's 429: every
    answer the client meets stays inside the contract."""
    client = _client(checked, subscription)
    purged_files, archived, deleted = (
        services.deposit_case(subscription, files=etat_civil_files()) for _ in range(3)
    )
    client.create_event(str(purged_files.id), status_event("SI_RECEIVED"))
    services.osl_close(deleted)
    services.run_purge(now=timezone.now() + timedelta(days=32))
    services.osl_close(archived)
    services.run_purge(now=timezone.now() + timedelta(days=3))
    services.set_faults(throttle_rate=1.0, throttle_retry_after=0)

    client.list_notifications(25)
    for case in (purged_files, archived):
        data = client.get_case(str(case.id))
        attachment_id = data.attachments[0].id
        with pytest.raises(NotFoundError):
            client.download_case_attachment(str(case.id), attachment_id, _bytes_io(b""), None)
    assert data.status == "ARCHIVED"
    with pytest.raises(NotFoundError):
        client.get_case(str(deleted.id))

    assert checked.violations == []
    assert contract.recorded() == []
    statuses = {status for _, _, status in checked.seen}
    assert statuses >= {200, 404, 429}


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


# -- the gateway's 400 on a request that breaks the contract ----------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        (
            "GET",
            "notifications",
            {"params": {"maxResult": "25", "page": "2"}},
            "[ERROR][REQUEST][GET /teledossiers/v1/notifications @query.page] Query parameter "
            "'page' is unexpected",
        ),
        (
            "GET",
            "cases/{case}",
            {"params": {"eventDetails": "true"}},
            "@query.eventDetails] Query parameter 'eventDetails' is unexpected",
        ),
        (
            "GET",
            "cases/{case}",
            {"params": {"lite": "x" * 15}},
            "@query.lite] String is too long (length: 15, maximum allowed: 14)",
        ),
        (
            "POST",
            "cases/{case}/events",
            {"json": {**status_event("SI_RECEIVED").to_api(), "priority": "high"}},
            "@body] [Path '/'] Object instance has properties which are not allowed by the "
            'schema: ["priority"]',
        ),
        (
            "POST",
            "cases/{case}/events",
            {"json": {**status_event("SI_RECEIVED").to_api(), "status": "SENT"}},
            "@body] [Path '/status'] Property is read-only: it must not be sent",
        ),
        (
            "POST",
            "cases/{case}/events",
            {"data": "actionType=STATUS_UPDATE", "headers": {"Content-Type": "text/plain"}},
            "@header.Content-Type] Request Content-Type header '[text/plain]' does not match "
            "any allowed types. Must be one of: [application/json]",
        ),
        (
            "POST",
            "cases/{case}/events",
            {"data": b"{pas du json", "headers": {"Content-Type": "application/json"}},
            "@body] Unable to parse JSON",
        ),
        (
            "PATCH",
            "cases/{case}",
            {"json": {"status": 17}},
            "@body] [Path '/status'] Instance type (integer) does not match any allowed "
            'primitive type (allowed: ["string"])',
        ),
        (
            "GET",
            "notifications",
            {"headers": {"editorName": "É" * 51}},
            "@header.editorName] String is too long (length: 51, maximum allowed: 50)",
        ),
    ],
)
def test_requests_breaking_the_contract_get_the_gateway_400(
    checked: Checked,
    subscription: Subscription,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    expected: str,
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    headers = {**bearer(checked.session, subscription), **kwargs.pop("headers", {})}

    response = checked.session.request(
        method, f"{API}/{path.format(case=case.id)}", headers=headers, **kwargs
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == 400
    assert error["message"].startswith("Bad Request : Validation failed.\n[ERROR][REQUEST][")
    assert expected in error["message"]
    assert not case.events.exists()
    assert checked.violations == []  # the 400 itself is in HubEE's Error format


def test_the_documented_extras_are_tolerated(checked: Checked, subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.osl_message(case, "Bonjour")

    listed = checked.session.get(
        f"{API}/notifications",
        params={"eventDetails": "true", "maxResult": "10", "processCode": "EtatCivil"},
        headers=bearer(checked.session, subscription),
    )

    assert listed.status_code == 200
    assert [n["eventActionType"] for n in listed.json()] == [None, "SENDING_MESSAGE"]
    assert checked.violations == []


def test_answers_are_checked_strictly_beyond_the_documented_extras(db: None) -> None:
    checker = load(CONTRACT_PATH)
    listing = ContractRequest(method="GET", path="/teledossiers/v1/notifications")
    item = {
        "id": "0b3fbd0c-4c5d-4a8e-9f57-0e7dcb1d2f11",
        "recipient": {"type": "SI", "companyRegister": "21060088800015", "branchCode": "06088"},
        "transmitter": {"type": "OSL", "companyRegister": "13000000000000", "branchCode": "0"},
        "processCode": "EtatCivil",
        "caseId": "0b3fbd0c-4c5d-4a8e-9f57-0e7dcb1d2f11",
        "eventId": None,
        "dateTime": "2022-03-01T16:24:44.521Z",
        "eventActionType": None,
        "eventStatus": None,
    }

    def answer(*items: dict[str, Any], status: int = 200) -> ContractResponse:
        return ContractResponse(status, Headers(), "application/json", json.dumps(items).encode())

    assert checker.response_violations(listing, answer(item)) == []
    extra = checker.response_violations(listing, answer({**item, "eventAuthor": "x"}))
    assert [v.detail for v in extra] == [
        "[Path '/0'] Object instance has properties which are not allowed by the schema: "
        '["eventAuthor"]'
    ]
    missing = checker.response_violations(listing, answer({k: item[k] for k in item if k != "id"}))
    assert [v.detail for v in missing] == [
        "[Path '/0'] Object has missing required properties ([\"id\"])"
    ]
    bad_error = ContractResponse(404, Headers(), "application/json", b'{"error":"not found"}')
    assert checker.response_violations(listing, bad_error) != []


def test_an_answer_breaking_the_contract_becomes_the_gateway_500(
    checked: Checked, subscription: Subscription
) -> None:
    """HubEE's folder API accepts a case number of 100 characters, its Case answer allows 30:
    the gateway refuses such an answer, and so does the sandbox."""
    case = services.deposit_case(
        subscription, files=etat_civil_files(), external_id="DILA-EtatCivil-0000000000001-01"
    )

    response = checked.session.get(
        f"{API}/cases/{case.id}", headers=bearer(checked.session, subscription)
    )

    assert response.status_code == 500
    message = response.json()["errors"][0]["message"]
    assert message == (
        "Bad Response : Validation failed.\n"
        f"[ERROR][RESPONSE][GET /teledossiers/v1/cases/{case.id}] [Path '/externalId'] "
        "String is too long (length: 31, maximum allowed: 30)"
    )
    assert contract.recorded() == [message]


def test_our_client_requests_pass_the_gateway(checked: Checked, subscription: Subscription) -> None:
    """The client's own shapes (list with eventDetails and processCode, lite case, a status
    with every optional field) are accepted as they are."""
    client = _client(checked, subscription)
    case = services.deposit_case(subscription, files=etat_civil_files())

    client.list_notifications(25, event_details=True, process_codes=["EtatCivil", "CERTDC"])
    client.get_case(str(case.id), lite=True)
    client.create_event(
        str(case.id),
        status_event(
            "SI_RECEIVED",
            case_current_status="HUBEE_NOTIFIED",
            message="Reçu",
            comment="Note interne",
            partner_attributes="statut=17",
        ),
    )
    with pytest.raises(BadRequestError) as refused:
        post_event_body(client, str(case.id), {"actionType": "COM_ADD", "notification": "oui"})

    assert "Instance type (string) does not match" in refused.value.hubee_message
    assert [status for _, _, status in checked.seen] == [200, 200, 201, 400]
    assert checked.violations == []
