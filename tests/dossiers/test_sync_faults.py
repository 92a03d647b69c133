"""Each fault switch of the sandbox, and all of them at once: the ingestion engine recovers.

What an IT person would check after a bad day on HubEE's side: every file on disk identical to
what the citizen deposited, every notification handled (deleted on HubEE), one status push per
case, and only the purged cases given up — after the configured attempts, and journaled.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import time_machine

from demarches.hubee import config_for
from demarches.models import Demarche
from dossiers.enums import AttachmentState, Direction, FailureKind, OutgoingState, RunStatus
from dossiers.exchange.inbound.journal import SyncOutcome
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Dossier, Evenement, NotificationFailure, OutgoingEvent, PieceJointe
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import content, faults, services
from hubee_portal.sandbox.models import Case
from hubee_portal.sandbox.storage import attachment_path
from hubee_portal.sandbox.transport import SandboxAdapter
from tests.dossiers.conftest import BASE, Hubee

pytestmark = pytest.mark.django_db

CASE_DOWNLOAD = "/teledossiers/v1/cases/{caseId}/attachments/{attachmentId}"
EVENT_DOWNLOAD = "/teledossiers/v1/cases/{caseId}/events/{eventId}/attachments/{attachmentId}"
DOWNLOADS = (CASE_DOWNLOAD, EVENT_DOWNLOAD)
EVENTS = "/teledossiers/v1/cases/{caseId}/events"


# -- a realistic mix of deposits ------------------------------------------------------------


def deposit_mix(hubee: Hubee, demarche: Demarche, count: int, rng: random.Random) -> list[Case]:
    """`count` télédossiers with 1 to 4 of the files a real deposit of the démarche carries."""
    cases = []
    for _ in range(count):
        applicant = content.random_applicant(rng)
        external_id = services.next_external_id(demarche.subscription)
        generated = content.generate_files(demarche.process_code, applicant, external_id, rng)
        chosen = rng.sample(generated, rng.randint(1, min(4, len(generated))))
        cases.append(
            hubee.deposit(
                demarche,
                external_id=external_id,
                applicant={"firstName": applicant.first_name, "lastName": applicant.last_name},
                files=[(f.file_name, f.type, f.mime_type, f.content) for f in chosen],
            )
        )
    return cases


def complement(case: Case, rng: random.Random) -> Any:
    """The citizen adds one or two documents (ATTACH_DEPOSIT, published at once)."""
    files = [services.complement_file(case)]
    if rng.random() < 0.5:
        files.append(("note.txt", "document", "text/plain", f"Note {rng.random()}".encode()))
    return services.osl_attach_deposit(case, files)


def assert_every_file_identical(cases: list[Case]) -> int:
    """Each file HubEE holds for these cases (deposit and events) is on disk, byte-identical."""
    checked = 0
    for case in cases:
        dossier = Dossier.objects.get(hubee_case_id=case.id)
        hubee_files = list(case.attachments.all()) + [
            a for event in case.events.all() for a in event.attachments.all()
        ]
        for attachment in hubee_files:
            piece = dossier.pieces_jointes.get(hubee_attachment_id=attachment.id)
            assert piece.state == AttachmentState.STORED, (piece.file_name, piece.state_detail)
            expected = attachment_path(attachment.id).read_bytes()
            assert piece.absolute_path.read_bytes() == expected, piece.file_name
            checked += 1
    return checked


def downloads() -> int:
    """How many download calls the sandbox logged."""
    return sum(services.call_counts(path=path).calls for path in DOWNLOADS)


def assert_all_handled(*demarches: Demarche) -> None:
    for demarche in demarches:
        assert services.pending_si_notifications(demarche.subscription) == 0, demarche
    assert not NotificationFailure.objects.filter(given_up=False, resolved_at__isnull=True)


def assert_one_push_per_case(cases: list[Case], status: str = "SI_RECEIVED") -> None:
    for case in cases:
        assert services.status_pushes(case) == [status], case.external_id
    assert not OutgoingEvent.objects.exclude(state=OutgoingState.SENT).exists()


# -- a sandbox whose clock runs fast, and a client that trusts its token -------------------


class FastClockAdapter(SandboxAdapter):
    """Every request moves the sandbox's clock forward by `step` seconds (time-machine)."""

    def __init__(self, traveller: Any, step: float) -> None:
        super().__init__()
        self.traveller = traveller
        self.step = step

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.traveller.shift(self.step)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def fast_clock() -> Iterator[Any]:
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def trusting_client(demarche: Demarche, session: requests.Session) -> HubEEClient:
    """The client's own clock stands still: it keeps its token until HubEE says 401."""
    return HubEEClient(
        config_for(demarche), session=session, sleep=lambda s: None, monotonic=lambda: 0.0
    )


def sync(demarche: Demarche, client: HubEEClient) -> SyncOutcome:
    return sync_demarche(demarche, client=client, concurrency=1)


# -- one switch at a time ------------------------------------------------------------------


def test_server_errors_on_every_first_attempt(hubee: Hubee) -> None:
    demarche = hubee.demarche("recensementCitoyen")
    cases = deposit_mix(hubee, demarche, 5, random.Random(1))
    services.set_faults(error_rate=1.0)

    outcome = hubee.sync(demarche)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    files = assert_every_file_identical(cases)
    assert_all_handled(demarche)
    assert_one_push_per_case(cases)
    counts = services.call_counts()
    # One 5xx per resource: token, list, each case, each file, each POST, each DELETE.
    assert counts.server_errors >= 1 + 1 + 3 * len(cases) + files
    assert hubee.client(demarche).stats.retries == counts.server_errors


def test_short_token_lifetime_gets_401_then_a_new_token(hubee: Hubee, fast_clock: Any) -> None:
    demarche = hubee.demarche("EtatCivil", rules={"allows_messages": True})
    cases = deposit_mix(hubee, demarche, 6, random.Random(2))
    services.set_faults(token_lifetime=60)
    session = requests.Session()
    session.mount(f"{BASE}/", FastClockAdapter(fast_clock, step=20))  # a token lasts 3 calls
    client = trusting_client(demarche, session)

    outcome = sync(demarche, client)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    assert_every_file_identical(cases)
    assert_all_handled(demarche)
    assert_one_push_per_case(cases)
    expired = services.call_counts().by_status.get(401, 0)
    assert expired >= 5
    assert client.stats.token_requests == expired + 1  # one new token per 401, no more


def test_truncated_downloads_are_fetched_again(hubee: Hubee) -> None:
    demarche = hubee.demarche("depotDossierPACS")
    rng = random.Random(3)
    cases = deposit_mix(hubee, demarche, 4, rng)
    hubee.sync(demarche)
    complement(cases[0], rng)
    first_files = sum(c.attachments.count() for c in cases)
    services.clear_call_log()
    services.set_faults(truncate_downloads=True)
    more = deposit_mix(hubee, demarche, 3, rng)
    complement(cases[1], rng)

    outcome = hubee.sync(demarche)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    files = assert_every_file_identical(cases + more) - first_files
    # Each file: a cut answer (the connection dropped), then the whole file.
    assert downloads() == 2 * files
    # A cut drops the connection: the next request opens a new one, once per file.
    assert services.call_counts().new_connections == files
    assert_all_handled(demarche)


def test_wrong_digest_is_detected_and_the_file_fetched_again(hubee: Hubee) -> None:
    demarche = hubee.demarche("CERTDC", automatic_status="IN_PROGRESS")
    rng = random.Random(4)
    cases = deposit_mix(hubee, demarche, 5, rng)
    services.set_faults(wrong_digest=True)

    outcome = hubee.sync(demarche)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    files = assert_every_file_identical(cases)
    assert downloads() == 2 * files
    for piece in PieceJointe.objects.all():
        assert piece.sha256 == hashlib.sha256(piece.absolute_path.read_bytes()).hexdigest()
    assert_all_handled(demarche)
    assert_one_push_per_case(cases, "IN_PROGRESS")


def test_lost_post_answers_never_create_an_event_twice(hubee: Hubee) -> None:
    # The official behaviour: two pushes per case, each POST's answer lost the first time.
    demarche = hubee.demarche(
        "JeChangeDeCoordonnees", automatic_status="IN_PROGRESS", automatic_final_status="DONE"
    )
    cases = deposit_mix(hubee, demarche, 5, random.Random(5))
    services.set_faults(drop_response_after_post=True)

    outcome = hubee.sync(demarche)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    for case in cases:
        assert services.status_pushes(case) == ["IN_PROGRESS", "DONE"]
    assert services.call_counts(path=EVENTS).by_status == {504: 5, 201: 5}
    assert set(OutgoingEvent.objects.values_list("state", flat=True)) == {OutgoingState.SENT}
    assert set(Dossier.objects.values_list("status", flat=True)) == {"DONE"}
    assert_every_file_identical(cases)
    assert_all_handled(demarche)


def test_small_latencies_are_paid_and_the_connection_kept_alive(
    hubee: Hubee, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(faults, "sleep", sleep)
    demarche = hubee.demarche("EtatCivil")
    cases = deposit_mix(hubee, demarche, 4, random.Random(6))
    services.set_faults(latency_ms=2, connection_latency_ms=30)

    outcome = hubee.sync(demarche)

    assert outcome.run.status == RunStatus.OK, outcome.run.message
    assert_every_file_identical(cases)
    assert_all_handled(demarche)
    counts = services.call_counts()
    assert counts.new_connections == 1  # keep-alive: the handshake is paid once
    assert len(slept) == counts.calls
    assert slept.count(0.032) == 1 and slept.count(0.002) == counts.calls - 1


def test_purged_cases_are_given_up_after_the_configured_attempts(hubee: Hubee) -> None:
    demarche = hubee.demarche("EtatCivil", rules={"allows_messages": True})
    demarche.connection.not_found_attempts = 3
    demarche.connection.save()
    rng = random.Random(7)
    good = deposit_mix(hubee, demarche, 3, rng)
    purged = deposit_mix(hubee, demarche, 2, rng)
    for case in purged:
        services.purge_case(case)

    first = hubee.sync(demarche)
    # A known case purged afterwards: its new event cannot be read either.
    late = good.pop()
    services.osl_message(late, "Avez-vous reçu mon dossier ?")
    services.purge_case(late)
    second = hubee.sync(demarche)
    third = hubee.sync(demarche)

    assert (first.run.status, second.run.status) == (RunStatus.PARTIAL, RunStatus.PARTIAL)
    given_up = NotificationFailure.objects.filter(given_up=True)
    # Three runs for the two purged from the start; the late one has had two.
    assert set(given_up.values_list("case_id", flat=True)) == {c.id for c in purged}
    assert services.pending_si_notifications(demarche.subscription) == 1
    fourth = hubee.sync(demarche)
    assert fourth.run.status == RunStatus.PARTIAL  # its last attempt, then given up
    assert third.pending_failures == 1 and fourth.pending_failures == 0
    failures = NotificationFailure.objects.all()
    assert {f.case_id for f in failures} == {c.id for c in purged} | {late.id}
    for failure in failures:
        assert failure.given_up and failure.given_up_at is not None
        assert failure.kind == FailureKind.NOT_FOUND and failure.not_found_runs == 3
        assert "is not found" in failure.error
    assert services.pending_si_notifications(demarche.subscription) == 0
    assert_every_file_identical(good)
    assert set(Dossier.objects.values_list("hubee_case_id", flat=True)) == {c.id for c in good} | {
        late.id
    }


# -- every switch at once --------------------------------------------------------------------


def test_every_switch_at_once(
    hubee: Hubee, fast_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults, "sleep", slept.append)
    rng = random.Random(2026)
    hubee.connection.not_found_attempts = 3
    hubee.connection.save()
    etat_civil = hubee.demarche("EtatCivil", rules={"allows_messages": True})
    census = hubee.demarche(
        "recensementCitoyen", rules={"allows_messages": True, "allows_document_return": True}
    )
    certdc = hubee.demarche("CERTDC", automatic_status="IN_PROGRESS")
    demarches = (etat_civil, census, certdc)
    cases = {d.pk: deposit_mix(hubee, d, 7, rng) for d in demarches}
    purged_early = [cases[etat_civil.pk].pop(), cases[certdc.pk].pop()]
    for case in purged_early:
        services.purge_case(case)
    services.set_faults(
        seed=11,
        error_rate=1.0,
        latency_ms=1,
        connection_latency_ms=5,
        token_lifetime=60,
        truncate_downloads=True,
        wrong_digest=True,
        drop_response_after_post=True,
        faults_per_resource=1,
    )
    session = requests.Session()
    session.mount(f"{BASE}/", FastClockAdapter(fast_clock, step=5))  # a token lasts 12 calls
    clients = {d.pk: trusting_client(d, session) for d in demarches}

    def run_all() -> list[SyncOutcome]:
        return [sync(d, clients[d.pk]) for d in demarches]

    run_all()
    # The citizen and the operator act on the cases received (events of every kind).
    messages = {}
    for demarche in demarches:
        first, second, third, fourth = cases[demarche.pk][:4]
        complement(first, rng)
        if demarche.subscription.allows_messages:
            messages[second.id] = f"Message sur {second.external_id}"
            services.osl_message(second, messages[second.id])
        services.osl_close(third)
        ours = Evenement.objects.get(dossier__hubee_case_id=fourth.id, direction=Direction.SENT)
        services.osl_acknowledge(services.event(ours.hubee_event_id))
    purged_late = cases[census.pk].pop()
    services.osl_message(purged_late, "Dernier message avant la purge")
    services.purge_case(purged_late)
    for _ in range(3):
        run_all()

    kept = [case for demarche in demarches for case in cases[demarche.pk]]
    assert len(kept) + len(purged_early) + 1 == 21
    files = assert_every_file_identical(kept)
    assert_all_handled(*demarches)
    for demarche in demarches:
        status = "IN_PROGRESS" if demarche is certdc else "SI_RECEIVED"
        assert_one_push_per_case(cases[demarche.pk], status)
    # Every event of the operator reached its dossier and was acknowledged on HubEE.
    for demarche in demarches:
        first, second, third, fourth = cases[demarche.pk][:4]
        assert Dossier.objects.get(hubee_case_id=third.id).status == "CLOSED"
        assert (
            Evenement.objects.get(
                dossier__hubee_case_id=fourth.id, direction=Direction.SENT
            ).hubee_status
            == "RECEIVED"
        )
        received = Evenement.objects.filter(
            dossier__hubee_case_id=first.id, action_type="ATTACH_DEPOSIT"
        )
        assert received.count() == 1
    for case_id, text in messages.items():
        assert (
            Evenement.objects.get(
                dossier__hubee_case_id=case_id, action_type="SENDING_MESSAGE"
            ).message
            == text
        )
    osl_events = [e for c in kept for e in c.events.all() if e.transmitter_type == "OSL"]
    assert len(osl_events) == 3 + len(messages) + 3
    assert all(e.status == "RECEIVED" for e in osl_events)
    # Only the named purged cases were given up, each after three runs, and journaled.
    given_up = NotificationFailure.objects.filter(given_up=True)
    assert {f.case_id for f in given_up} == {c.id for c in purged_early} | {purged_late.id}
    assert all(f.kind == FailureKind.NOT_FOUND and f.not_found_runs == 3 for f in given_up)
    assert not NotificationFailure.objects.filter(given_up=False, resolved_at__isnull=True)
    # And every switch did fire.
    counts = services.call_counts()
    assert counts.server_errors > 0
    assert counts.by_status.get(401, 0) > 0 and counts.by_status.get(504, 0) > 0
    # Per file: a 5xx, a cut answer, a wrong digest, then the file.
    assert downloads() >= 4 * files
    assert len(slept) == counts.calls and 0.006 in slept
