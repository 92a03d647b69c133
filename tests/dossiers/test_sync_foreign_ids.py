"""A HubEE connection answering the ids of another démarche's case or events (misconfigured, or
pointed at a hostile server by a staff account) must not touch that démarche's dossier.

Démarche A syncs with the sandbox and holds case X, with an agent's message still to send.
Démarche B has its own connection, a fake HubEE (`responses`) that answers case X and A's
event ids as if they were its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses

from demarches.hubee import config_for
from dossiers import tasks
from dossiers.enums import ActionType, Direction, FailureKind, OutgoingState, RunStatus
from dossiers.exchange import connection
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.exchange.outbound import delivery
from dossiers.models import (
    Dossier,
    Evenement,
    NotificationFailure,
    OutgoingEvent,
    PieceJointe,
)
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services as sandbox
from tests.factories import DemarcheFactory, DossierFactory, HubEEConnectionFactory
from tests.hubee.helpers import API_URL, BASE, RECIPIENT, TOKEN_URL, TRANSMITTER, add_token

pytestmark = pytest.mark.django_db

API_PATH = urlsplit(BASE).path
FOREIGN_CASE = (
    "Ce cas HubEE appartient déjà à une autre démarche du portail : il n'a pas été modifié."
)
FOREIGN_EVENT = (
    "Cet événement HubEE appartient déjà à une autre démarche du portail : il n'a pas été modifié."
)
MESSAGE_OF_A = "Votre acte de naissance est prêt, Camille."


def new_id() -> str:
    return str(uuid.uuid4())


class FakeHubEE:
    """B's HubEE: notifications, cases and events set by the test; every request recorded."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.cases: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        # Called before answering GET /cases/{id} or GET /cases/{id}/events/{id}.
        self.before_answer: dict[str, Callable[[], None]] = {}
        self.next_event_id: str | None = None  # the id answered to the next POST
        self.requests: list[tuple[str, str, str]] = []  # method, path, body
        add_token(rsps)
        pattern = re.compile(re.escape(BASE) + r"/.*")
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            rsps.add_callback(method, pattern, callback=self.answer)

    def notify_case(self, case_id: str) -> str:
        return self._notify(case_id, None, None, None)

    def notify_event(self, case_id: str, event_id: str, status: str = "SENT") -> str:
        return self._notify(case_id, event_id, "STATUS_UPDATE", status)

    def _notify(self, case_id, event_id, action_type, status) -> str:
        notification_id = new_id()
        self.notifications.append(
            {
                "id": notification_id,
                "processCode": "Autre",
                "caseId": case_id,
                "eventId": event_id,
                "eventActionType": action_type,
                "eventStatus": status,
                "dateTime": "2025-03-01T10:00:00",
            }
        )
        return notification_id

    def add_case(self, case_id: str, external_id: str, *, with_file: bool = False) -> None:
        attachments = []
        if with_file:
            data = b"%PDF-1.4 piege"
            attachment_id = new_id()
            self.files[attachment_id] = data
            attachments.append(
                {
                    "id": attachment_id,
                    "fileName": "piege.pdf",
                    "type": "ActeEtatCivil-PDF",
                    "mimeType": "application/pdf",
                    "size": len(data),
                    "status": "RECEIVED",
                }
            )
        self.cases[case_id] = {
            "id": case_id,
            "recipient": RECIPIENT,
            "createDateTime": "2025-03-01T09:00:00",
            "externalId": external_id,
            "processCode": "Autre",
            "status": "SENT",
            "applicant": {"firstName": "Pirate", "lastName": "Intrus", "email": "p@evil.test"},
            "attachments": attachments,
            "events": [],
        }

    def add_event(self, event_id: str, new_status: str = "REFUSED") -> None:
        self.events[event_id] = {
            "id": event_id,
            "transmitter": TRANSMITTER,
            "actionType": "STATUS_UPDATE",
            "caseNewStatus": new_status,
            "message": "Réécrit par l'autre connexion",
            "author": "Intrus",
            "status": "SENT",
            "createDateTime": "2025-03-01T10:00:00",
        }

    def notification_ids(self) -> set[str]:
        return {n["id"] for n in self.notifications}

    def writes_on(self, case_id: str) -> list[tuple[str, str, str]]:
        """Requests that would change the case on B's HubEE (a push, an acknowledgement…)."""
        return [r for r in self.requests if r[0] != "GET" and r[1].startswith(f"/cases/{case_id}")]

    def answer(self, request) -> tuple[int, dict[str, str], bytes | str]:
        path = urlsplit(request.url).path.removeprefix(API_PATH)
        body = request.body or b""
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.requests.append((request.method, path, body))
        parts = path.strip("/").split("/")
        json_headers = {"Content-Type": "application/json"}
        if parts[0] == "notifications":
            if request.method == "GET":
                return 200, json_headers, json.dumps(self.notifications)
            self.notifications = [n for n in self.notifications if n["id"] != parts[1]]
            return 204, {}, ""
        case_id = parts[1]
        if request.method in ("PATCH", "DELETE"):
            return 204, {}, ""
        if request.method == "POST":  # an event created on the case
            event_id, self.next_event_id = self.next_event_id or new_id(), None
            created = {
                **json.loads(body),
                "id": event_id,
                "status": "SENT",
                "transmitter": TRANSMITTER,
            }
            return 201, json_headers, json.dumps(created)
        if parts[-2] == "attachments":
            data = self.files[parts[-1]]
            return 200, {"Content-Type": "application/octet-stream"}, data
        key = parts[3] if len(parts) == 4 else case_id
        if key in self.before_answer:
            self.before_answer.pop(key)()
        found = self.events.get(parts[3]) if len(parts) == 4 else self.cases.get(case_id)
        if found is None:
            error = {"errors": [{"code": 404, "message": "Case is not found"}]}
            return 404, json_headers, json.dumps(error)
        return 200, json_headers, json.dumps(found)


@pytest.fixture
def portal(hubee, tmp_path, monkeypatch, settings):
    """A's dossier for case X (stored, one status pushed, a message pending), and B."""
    # B's fake HubEE is an https host of its own, allowed as a relay would be.
    settings.HUBEE_ALLOWED_HOSTS = [*settings.HUBEE_ALLOWED_HOSTS, urlsplit(TOKEN_URL).hostname]
    settings.HUBEE_ALLOWED_HOSTS.append(urlsplit(API_URL).hostname)
    a = hubee.demarche(
        "EtatCivil",
        automatic_status="SI_RECEIVED",
        allows_messages=True,
        rules={"allows_messages": True},
    )
    case = hubee.deposit(a)
    hubee.sync(a)
    dossier = Dossier.objects.get(demarche=a, hubee_case_id=case.id)
    pushed = Evenement.objects.get(dossier=dossier, direction=Direction.SENT)
    # Not acknowledged yet by the citizen's side.
    Evenement.objects.filter(pk=pushed.pk).update(hubee_status="SENT")
    pending = OutgoingEvent.objects.create(
        dossier=dossier,
        action_type=ActionType.SENDING_MESSAGE,
        message=MESSAGE_OF_A,
        author="Agent de la mairie",
    )
    evil = HubEEConnectionFactory(name="Autre connexion", token_url=TOKEN_URL, api_url=API_URL)
    b = DemarcheFactory(
        name="Autre démarche",
        process_code="Autre",
        connection=evil,
        download_folder=str(tmp_path / "telechargements" / "Autre"),
        automatic_status="SI_RECEIVED",
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        portal = Portal(hubee, a, case, dossier, pushed, pending, b, FakeHubEE(rsps))
        # The outbox task builds each démarche's client from its own connection.
        clients = {a.pk: hubee.client(a), b.pk: portal.client_b}
        monkeypatch.setattr(connection, "client_for", lambda demarche: clients[demarche.pk])
        yield portal


class Portal:
    def __init__(self, hubee, a, case, dossier, pushed, pending, b, fake) -> None:
        self.hubee = hubee
        self.a = a
        self.case = case
        self.case_id = str(case.id)
        self.dossier = dossier
        self.pushed = pushed
        self.pending = pending
        self.b = b
        self.fake = fake
        self.client_b = HubEEClient(config_for(b), sleep=lambda s: None)
        self.before = self.state_of_a()

    def sync_b(self):
        return sync_demarche(self.b, client=self.client_b, concurrency=1)

    def state_of_a(self) -> tuple[Any, ...]:
        """Every row and file of A's dossier."""
        root = Path(self.a.download_folder)
        return (
            Dossier.objects.filter(pk=self.dossier.pk).values().get(),
            list(Evenement.objects.filter(dossier=self.dossier).order_by("pk").values()),
            list(PieceJointe.objects.filter(dossier=self.dossier).order_by("pk").values()),
            list(OutgoingEvent.objects.filter(dossier=self.dossier).order_by("pk").values()),
            {
                str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*")
                if p.is_file()
            },
        )

    def other_case_of_b(self) -> str:
        """A case of B's own, notified in the same run: handled normally."""
        case_id = new_id()
        self.fake.add_case(case_id, "AUTRE-0001")
        self.fake.notify_case(case_id)
        return case_id

    def assert_a_untouched(self) -> None:
        assert self.state_of_a() == self.before
        # Nothing A holds was sent through B's connection, not even its pending message.
        assert self.fake.writes_on(self.case_id) == []
        assert not any(MESSAGE_OF_A in body for _, _, body in self.fake.requests)

    def assert_refused(self, notification_id: str, message: str) -> NotificationFailure:
        failure = NotificationFailure.objects.get(demarche=self.b, notification_id=notification_id)
        assert failure.kind == FailureKind.INVALID
        assert failure.error.startswith(message)
        # Nothing of A's dossier in a text B's administrators read.
        for secret in (self.dossier.external_id, self.dossier.applicant_last_name, self.a.name):
            assert secret not in failure.error
        # The invalid-data policy: kept on HubEE, tried again next run.
        assert notification_id in self.fake.notification_ids()
        assert not failure.given_up
        return failure

    def assert_own_case_handled(self, case_id: str, outcome) -> None:
        own = Dossier.objects.get(hubee_case_id=case_id)
        assert own.demarche == self.b
        assert own.status == "SI_RECEIVED"  # B's automatic status went to B's HubEE
        assert [r[0] for r in self.fake.writes_on(case_id)] == ["POST"]
        assert outcome.run.status == RunStatus.PARTIAL
        assert outcome.run.notifications_handled >= 1

    def assert_a_sends_its_own_message(self) -> None:
        """A's pending message goes out later, by A's outbox and through A's connection only."""
        writes = len([r for r in self.fake.requests if r[0] != "GET"])
        delivery.deliver_due(self.b)
        self.pending.refresh_from_db()
        assert self.pending.state == OutgoingState.PENDING
        delivery.deliver_due(self.a)
        self.pending.refresh_from_db()
        assert self.pending.state == OutgoingState.SENT
        events = sandbox.case_as_hubee_sees_it(self.case)["events"]
        assert [e.get("message") for e in events].count(MESSAGE_OF_A) == 1
        assert len([r for r in self.fake.requests if r[0] != "GET"]) == writes


def test_new_case_notification_for_a_case_of_another_demarche(portal):
    fake = portal.fake
    fake.add_case(portal.case_id, "PIRATE-0001", with_file=True)
    attack = fake.notify_case(portal.case_id)
    own = portal.other_case_of_b()

    outcome = portal.sync_b()

    portal.assert_a_untouched()
    portal.assert_refused(attack, FOREIGN_CASE)
    portal.assert_own_case_handled(own, outcome)
    assert not PieceJointe.objects.filter(file_name="piege.pdf").exists()
    portal.assert_a_sends_its_own_message()


def test_event_notification_on_a_case_of_another_demarche(portal):
    fake = portal.fake
    event_id = new_id()
    fake.add_case(portal.case_id, "PIRATE-0001")
    fake.add_event(event_id, "REFUSED")
    attack = fake.notify_event(portal.case_id, event_id)
    own = portal.other_case_of_b()

    outcome = portal.sync_b()

    portal.assert_a_untouched()
    portal.assert_refused(attack, FOREIGN_CASE)
    portal.assert_own_case_handled(own, outcome)
    assert not Evenement.objects.filter(hubee_event_id=event_id).exists()
    portal.assert_a_sends_its_own_message()


def test_event_id_of_another_demarches_dossier_on_a_case_of_ours(portal):
    fake = portal.fake
    own = portal.other_case_of_b()
    stolen = str(portal.pushed.hubee_event_id)
    fake.add_event(stolen, "REFUSED")
    attack = fake.notify_event(own, stolen)

    outcome = portal.sync_b()

    portal.assert_a_untouched()
    portal.assert_refused(attack, FOREIGN_EVENT)
    portal.assert_own_case_handled(own, outcome)
    assert fake.writes_on(own) == [("POST", f"/cases/{own}/events", fake.writes_on(own)[0][2])]
    portal.assert_a_sends_its_own_message()


@pytest.mark.parametrize("on_case", ["own", "theirs"])
def test_acknowledgement_of_an_event_of_another_demarche(portal, on_case):
    fake = portal.fake
    own = portal.other_case_of_b()
    case_id = own if on_case == "own" else portal.case_id
    attack = fake.notify_event(case_id, str(portal.pushed.hubee_event_id), status="RECEIVED")

    outcome = portal.sync_b()

    portal.assert_a_untouched()
    assert Evenement.objects.get(pk=portal.pushed.pk).hubee_status == "SENT"
    portal.assert_refused(attack, FOREIGN_EVENT if on_case == "own" else FOREIGN_CASE)
    portal.assert_own_case_handled(own, outcome)


def test_new_case_stored_by_another_demarche_while_we_read_it(portal):
    """Both démarches sync in parallel, each under its own lease, and both are told of the same
    new case: A commits it while B waits for HubEE's answer. B loses, and says so."""
    fake = portal.fake
    contested = new_id()
    fake.add_case(contested, "PIRATE-0002", with_file=True)
    winner = {}

    def a_stores_it_first():
        winner["dossier"] = DossierFactory(demarche=portal.a, hubee_case_id=contested)
        OutgoingEvent.objects.create(
            dossier=winner["dossier"], message=MESSAGE_OF_A, author="Agent de la mairie"
        )

    fake.before_answer[contested] = a_stores_it_first
    attack = fake.notify_case(contested)
    own = portal.other_case_of_b()

    outcome = portal.sync_b()

    assert outcome.error is None
    portal.assert_refused(attack, FOREIGN_CASE)
    portal.assert_own_case_handled(own, outcome)
    won = Dossier.objects.get(hubee_case_id=contested)
    assert won.pk == winner["dossier"].pk
    assert won.demarche == portal.a
    assert (won.external_id, won.applicant_last_name) == (
        winner["dossier"].external_id,
        winner["dossier"].applicant_last_name,
    )
    assert not PieceJointe.objects.filter(dossier=won).exists()
    assert OutgoingEvent.objects.get(dossier=won).state == OutgoingState.PENDING
    assert fake.writes_on(contested) == []


def test_new_event_stored_by_another_demarche_while_we_read_it(portal):
    """Same race on an event id: A's row, committed while B waited for HubEE, stays A's."""
    fake = portal.fake
    own = portal.other_case_of_b()
    contested = new_id()
    fake.add_event(contested, "REFUSED")
    winner = {}

    def a_stores_it_first():
        winner["event"] = Evenement.objects.create(
            dossier=portal.dossier,
            hubee_event_id=contested,
            action_type="SENDING_MESSAGE",
            direction=Direction.RECEIVED,
            message="Message de l'usager de A",
            hubee_status="SENT",
        )

    fake.before_answer[contested] = a_stores_it_first
    attack = fake.notify_event(own, contested)

    outcome = portal.sync_b()

    event = Evenement.objects.get(hubee_event_id=contested)
    assert (event.dossier_id, event.message, event.hubee_status) == (
        portal.dossier.pk,
        "Message de l'usager de A",
        "SENT",
    )
    assert outcome.error is None
    portal.assert_refused(attack, FOREIGN_EVENT)
    portal.assert_own_case_handled(own, outcome)
    assert Dossier.objects.get(pk=portal.dossier.pk).status == portal.dossier.status
    assert fake.writes_on(own) == [("POST", f"/cases/{own}/events", fake.writes_on(own)[0][2])]


def pending_push_of_b(portal) -> tuple[Dossier, OutgoingEvent]:
    """B's own dossier (its case on B's HubEE) with an agent's status change to send."""
    dossier = DossierFactory(demarche=portal.b, status="SI_RECEIVED")
    portal.fake.add_case(str(dossier.hubee_case_id), dossier.external_id)
    outgoing = OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="IN_PROGRESS", author="Agent de l'autre démarche"
    )
    return dossier, outgoing


def test_push_answered_with_an_event_id_of_another_demarche(portal):
    """B's HubEE answers B's push with the id of A's event: A's row is not taken over."""
    dossier, outgoing = pending_push_of_b(portal)
    portal.fake.next_event_id = str(portal.pushed.hubee_event_id)

    tasks.send_outgoing(dossier.pk)

    portal.assert_a_untouched()
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.FAILED
    assert outgoing.last_error.startswith(
        "HubEE a répondu avec l'identifiant d'un événement déjà enregistré sur un autre dossier"
    )
    assert not Evenement.objects.filter(dossier=dossier).exists()
    assert Dossier.objects.get(pk=dossier.pk).status == "SI_RECEIVED"


def test_event_of_another_demarche_on_the_case_is_not_taken_for_our_push(portal):
    """B's case, as B's HubEE reads it, shows A's event looking like B's push: B does not take
    it for its own (and A's row stays A's); B's push is sent."""
    dossier, outgoing = pending_push_of_b(portal)
    case = portal.fake.cases[str(dossier.hubee_case_id)]
    case["events"] = [
        {
            "id": str(portal.pushed.hubee_event_id),
            "transmitter": TRANSMITTER,
            "actionType": "STATUS_UPDATE",
            "caseNewStatus": "IN_PROGRESS",
            "author": "Agent de l'autre démarche",
            "status": "SENT",
            "createDateTime": "2025-03-01T10:00:00",
        }
    ]

    tasks.send_outgoing(dossier.pk)

    portal.assert_a_untouched()
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.SENT
    assert outgoing.hubee_event_id != portal.pushed.hubee_event_id
    assert [r[0] for r in portal.fake.writes_on(str(dossier.hubee_case_id))] == ["POST"]
    assert Evenement.objects.get(dossier=dossier).hubee_event_id == outgoing.hubee_event_id
