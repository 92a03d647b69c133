"""What an agent reads about a send: French states from a code, a retry only where it can
succeed, the live parts of the page, and the marks of the list."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers.enums import SendFailure
from dossiers.exchange.outbound import failures, queue
from dossiers.models import AuditEntry, Dossier, OutgoingEvent
from dossiers.records import sends
from hubee_portal.hubee import BadRequestError, TransientError
from hubee_portal.hubee.errors import Reason
from hubee_portal.sandbox import services as sandbox
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, agent_for
from tests.views.conftest import received_dossier

pytestmark = pytest.mark.django_db

RULES = {"allows_messages": True, "allows_add_awaiting": True, "allows_document_return": True}
# What an agent must never read (the list), with word boundaries.
# The words, the English ones in any case (« Error », « Failed »…).
TECHNICAL = re.compile(
    r"\b(HTTP|Traceback|None)\b|GET /|POST /|\b(?i:error|rejected|invalid|failed)\b"
)


def detail(client, dossier) -> str:
    return html.unescape(client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode())


def push(dossier, **kwargs):
    kwargs.setdefault("case_new_status", "DONE")
    return OutgoingEvent.objects.create(dossier=dossier, author="Agent", **kwargs)


# -- the French texts ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [code for code, _ in SendFailure.choices])
@pytest.mark.parametrize("state", ["pending", "failed"])
def test_every_cause_reads_as_french_with_no_technical_word(state, failure):
    dossier = DossierFactory(status="IN_PROGRESS")
    outgoing = push(
        dossier,
        state=state,
        failure=failure,
        attempts=3,
        last_error="HubEE server error: POST /teledossiers/v1/cases/x/events -> HTTP 502",
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    shown = sends.state_of(outgoing, dossier)
    assert shown.label in sends.LABELS.values()
    assert shown.detail, "every state but « Transmis » says what happened"
    assert not TECHNICAL.search(shown.detail + shown.next_try_text)
    if state == "pending" and failure:
        assert re.fullmatch(r"Nouvel essai à \d\d h \d\d", shown.next_try_text)


def test_a_refusal_on_a_closed_case_offers_no_retry_but_a_temporary_failure_does():
    dossier = DossierFactory(status="IN_PROGRESS")
    closed = push(dossier, state="failed", failure=SendFailure.CLOSED)
    tired = push(dossier, state="failed", failure=SendFailure.SERVER, attempts=8)
    assert sends.state_of(closed, dossier).detail == sends.CLOSED
    assert not sends.state_of(closed, dossier).can_retry
    assert sends.state_of(tired, dossier).can_retry
    assert sends.state_of(tired, dossier).label == "Non transmis"
    dossier.status = "CLOSED"
    assert not sends.state_of(tired, dossier).can_retry


def test_hubee_refusing_an_event_on_a_closed_case_is_told_apart():
    closed = BadRequestError(
        "HubEE rejected the request as invalid",
        status_code=400,
        hubee_message="Case is CLOSED: no further event is accepted",
    )
    other = BadRequestError(
        "HubEE rejected the request as invalid",
        status_code=400,
        hubee_message="Status ADD_AWAITING is not authorized for this process",
    )
    assert failures.classify(closed) == SendFailure.CLOSED
    assert failures.classify(other) == SendFailure.REFUSED
    assert failures.classify(TransientError("x", reason=Reason.THROTTLED)) == "throttled"
    assert failures.classify(TransientError("x", reason=Reason.TIMEOUT)) == "unreachable"
    assert failures.classify(OSError("disk")) == SendFailure.LOCAL


# -- a case closed on HubEE ---------------------------------------------------------------------


def test_a_decision_on_a_case_closed_meanwhile_is_refused_in_french(portal, login):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    sandbox.osl_close(case)  # the citizen's side closes it; the portal has not synced yet
    client = login(agent_for(demarche))
    response = client.post(
        reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"}
    )
    assert response.status_code == 302
    outgoing = OutgoingEvent.objects.get(created_by__isnull=False)
    assert (outgoing.state, outgoing.failure) == ("failed", "closed")
    # Read closed before the POST: nothing was posted.
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    page = detail(client, dossier)
    assert "Refusé par HubEE</span>" in page
    assert "Le dossier a été clos côté usager : plus aucune action n'est possible." in page
    assert reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]) not in page
    # Posted anyway (an old page): refused, with the reason, nothing queued again.
    response = client.post(reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]), follow=True)
    assert "clos côté usager" in html.unescape(response.content.decode())
    outgoing.refresh_from_db()
    assert outgoing.state == "failed"
    assert not AuditEntry.objects.filter(action="retry").exists()


def test_a_closed_refusal_after_the_case_was_read_open_is_explained(portal, login, monkeypatch):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    from hubee_portal.hubee import HubEEClient

    real_create = HubEEClient.create_event

    def closed_just_before(self, *args, **kwargs):
        sandbox.osl_close(case)  # between our read of the case and our POST
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(HubEEClient, "create_event", closed_just_before)
    client.post(reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"})
    outgoing = OutgoingEvent.objects.get(created_by__isnull=False)
    assert (outgoing.state, outgoing.failure) == ("failed", "closed")
    assert "HTTP 400" in outgoing.last_error  # kept for the staff pages
    page = detail(client, dossier)
    assert "clos côté usager" in page and "HTTP 400" not in page


# -- the live parts -----------------------------------------------------------------------------


def test_the_page_follows_a_waiting_send_then_stops(
    portal, login, monkeypatch, django_assert_max_num_queries
):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    held = []
    monkeypatch.setattr(queue, "request_delivery", held.append)
    response = client.post(
        reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"}, follow=True
    )
    text = html.unescape(response.content.decode())
    assert "Votre décision est en attente d'envoi à HubEE" in text
    assert 'data-waiting="1"' in text and "Actualiser l'état des envois" in text
    assert held == [dossier.pk]

    url = reverse("dossiers:follow", args=[dossier.pk])
    with django_assert_max_num_queries(13):  # one for the second factor's sensitive check
        live = client.get(url)
    assert live["Cache-Control"] == "no-store"
    body = html.unescape(live.content.decode())
    assert 'data-waiting="1"' in body and "En attente d'envoi</span>" in body
    # A page left open is one consultation in the journal, not one per poll.
    views = AuditEntry.objects.filter(action="view", dossier=dossier)
    assert views.count() == 1  # the page itself; its poll just after adds none
    views.delete()
    client.get(url)
    client.get(url)
    assert views.count() == 1

    from dossiers import tasks

    tasks.send_outgoing(dossier.pk)
    body = html.unescape(client.get(url).content.decode())
    assert 'data-waiting="0"' in body
    assert "Transmis à HubEE</span>" in body
    assert "Passage au statut « Traité » : Transmis à HubEE." in body
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]


def test_another_agent_cannot_follow_a_dossier_they_do_not_see(client):
    dossier = DossierFactory()
    log_in(client, agent_for(DemarcheFactory()))
    assert client.get(reverse("dossiers:follow", args=[dossier.pk])).status_code == 404


# -- the list -----------------------------------------------------------------------------------


def test_the_list_marks_and_filters_waiting_and_refused_sends(client):
    demarche = DemarcheFactory()
    waiting = DossierFactory(demarche=demarche, status="IN_PROGRESS", external_id="ATTENTE-1")
    refused = DossierFactory(demarche=demarche, status="IN_PROGRESS", external_id="REFUS-1")
    closed = DossierFactory(demarche=demarche, status="CLOSED", external_id="CLOS-1")
    passed = DossierFactory(demarche=demarche, status="DONE", external_id="DEPASSE-1")
    quiet = DossierFactory(demarche=demarche, status="IN_PROGRESS", external_id="CALME-1")
    push(waiting)
    push(refused, state="failed", failure="refused")
    push(closed, state="failed", failure="closed")
    failed = push(passed, state="failed", failure="server", case_new_status="IN_PROGRESS")
    later = push(passed, state="sent")
    OutgoingEvent.objects.filter(pk=later.pk).update(
        created_at=failed.created_at + timedelta(seconds=1)
    )
    log_in(client, agent_for(demarche))
    page = client.get(reverse("dossiers:list")).content.decode()
    rows = {
        d.external_id: page.split(d.external_id + "</a>", 1)[1].split("</tr>", 1)[0]
        for d in (waiting, refused, closed, passed, quiet)
    }
    assert "Envoi en attente" in rows["ATTENTE-1"]
    assert "Envoi en échec" in rows["REFUS-1"]
    for quiet_one in ("CLOS-1", "DEPASSE-1", "CALME-1"):
        assert "Envoi" not in rows[quiet_one], quiet_one

    def listed(value):
        response = client.get(reverse("dossiers:list"), {"envoi": value})
        return [d.external_id for d in response.context["page_obj"]]

    assert listed("attente") == ["ATTENTE-1"]
    assert listed("refuse") == ["REFUS-1"]


# -- the reviewer's cases -----------------------------------------------------------------------


def test_a_status_the_dossier_went_past_offers_no_retry_and_no_mark(client):
    dossier = DossierFactory(status="DONE")
    overtaken = push(dossier, case_new_status="IN_PROGRESS", state="failed", failure="server")
    later = push(dossier, state="sent")  # « Traité », sent after
    OutgoingEvent.objects.filter(pk=later.pk).update(
        created_at=overtaken.created_at + timedelta(seconds=1)
    )
    assert not sends.state_of(overtaken, dossier).can_retry
    assert "ne revient pas en arrière" in sends.retry_refusal(overtaken, dossier)
    # A message that failed stays marked, whatever status push went through after it.
    message = push(
        dossier,
        case_new_status="",
        action_type="SENDING_MESSAGE",
        message="m",
        state="failed",
        failure="server",
        attempts=8,
    )
    OutgoingEvent.objects.filter(pk=message.pk).update(
        created_at=overtaken.created_at - timedelta(seconds=1)
    )
    log_in(client, agent_for(dossier.demarche))
    listed = client.get(reverse("dossiers:list"), {"envoi": "refuse"}).context["page_obj"]
    assert [d.pk for d in listed] == [dossier.pk]
    message.delete()
    listed = client.get(reverse("dossiers:list"), {"envoi": "refuse"}).context["page_obj"]
    assert list(listed) == []


def test_a_failure_with_no_try_never_reads_zero_tries():
    dossier = DossierFactory(status="IN_PROGRESS")
    never = push(dossier, state="failed", failure="server", attempts=0)
    assert "0 essai" not in sends.state_of(never, dossier).detail
    assert sends.state_of(never, dossier).detail.startswith("Cet envoi n'a pas été transmis")


def test_a_retry_gets_a_full_set_of_tries(portal, login, settings):
    settings.HUBEE_OUTBOX_MAX_ATTEMPTS = 2
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    sandbox.set_faults(error_rate=1.0, faults_per_resource=0)
    client.post(reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"})
    from dossiers import tasks

    tasks.send_outgoing(dossier.pk)
    outgoing = OutgoingEvent.objects.get(case_new_status="DONE")
    assert (outgoing.state, outgoing.attempts) == ("failed", 2)
    client.post(reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]))
    outgoing.refresh_from_db()
    # Still failing, but one try of two: pending with its backoff, not failed at once.
    assert (outgoing.state, outgoing.attempts) == ("pending", 1)
    assert outgoing.next_attempt_at is not None


def test_a_refusal_in_other_words_on_a_closed_case_is_found_by_reading_it(
    portal, login, monkeypatch
):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    from hubee_portal.hubee import HubEEClient

    def closed_then_refused(self, case_id, draft, **kwargs):
        sandbox.osl_close(case)
        raise BadRequestError(
            "HubEE rejected the request as invalid",
            status_code=400,
            hubee_message="Le télédossier n'accepte plus d'événement.",
        )

    monkeypatch.setattr(HubEEClient, "create_event", closed_then_refused)
    login(agent_for(demarche)).post(
        reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"}
    )
    outgoing = OutgoingEvent.objects.get(created_by__isnull=False)
    assert (outgoing.state, outgoing.failure) == ("failed", "closed")


def test_an_unreadable_answer_to_the_post_is_searched_for_not_refused(portal, login, monkeypatch):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", **RULES, rules=RULES)
    case, dossier = received_dossier(portal, demarche)
    from hubee_portal.hubee import HubEEClient, PermanentError

    real_create = HubEEClient.create_event

    def created_but_unreadable(self, *args, **kwargs):
        real_create(self, *args, **kwargs)  # HubEE has it...
        raise PermanentError("HubEE answer unreadable", reason=Reason.INVALID_RESPONSE)

    monkeypatch.setattr(HubEEClient, "create_event", created_but_unreadable)
    login(agent_for(demarche)).post(
        reverse("dossiers:action", args=[dossier.pk, "traiter"]), {"confirm": "on"}
    )
    outgoing = OutgoingEvent.objects.get(created_by__isnull=False)
    assert (outgoing.state, outgoing.failure) == ("pending", "unfinished")
    assert outgoing.post_unanswered_since is not None
    monkeypatch.setattr(HubEEClient, "create_event", real_create)
    # The unanswered POST can no longer land: the next try searches the case first.
    monkeypatch.setattr(OutgoingEvent, "settle", staticmethod(lambda: timedelta(0)))
    from dossiers import tasks

    tasks.send_outgoing(dossier.pk)
    outgoing.refresh_from_db()
    assert outgoing.state == "sent"
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]  # found, never posted twice


def test_an_automatic_push_on_a_closed_case_is_dropped_with_a_log(portal, caplog):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED")
    case = portal.deposit(demarche)
    sandbox.osl_close(case)
    with caplog.at_level("INFO", logger="dossiers.exchange.outbound.delivery"):
        portal.sync(demarche)
    dossier = Dossier.objects.get(hubee_case_id=case.id)
    assert not OutgoingEvent.objects.filter(dossier=dossier).exists()
    assert sandbox.status_pushes(case) == []
    assert any("dropped" in record.getMessage() for record in caplog.records)


def test_the_dashboard_never_counts_purged_dossiers(client):
    demarche = DemarcheFactory()
    purged = DossierFactory(demarche=demarche, status="DONE", purged_at=timezone.now())
    push(purged, case_new_status="", action_type="SENDING_MESSAGE", state="failed")
    log_in(client, agent_for(demarche))
    board = client.get(reverse("home")).context["board"]
    assert board.summaries[0].sends_refused == 0
