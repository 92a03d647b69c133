"""The outbox after a POST cut off by a kill
(dossiers.exchange.outbound.push.check_unfinished_attempt): not sent again while it may still
land on HubEE, sent once afterwards if HubEE never got it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dossiers.exchange.outbound import push
from dossiers.models import NotificationFailure, OutgoingEvent
from hubee_portal.hubee import HubEEClient, TransientError
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.conftest import Hubee

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """Not an Exception: nothing in the sync catches it, as with kill -9."""


@pytest.fixture
def hubee(tmp_path):
    return Hubee(tmp_path)


def killed_during_the_post(hubee, monkeypatch, demarche):
    def killed(self, case_id, payload, **kwargs):
        raise Killed

    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr(HubEEClient, "create_event", killed)
        hubee.sync(demarche)
    outgoing = OutgoingEvent.objects.get()
    assert (outgoing.state, outgoing.attempts) == ("pending", 1)
    assert outgoing.last_error == push.UNFINISHED_ATTEMPT
    return outgoing


def test_a_cut_off_push_waits_for_the_http_timeouts_then_is_sent_once(hubee, monkeypatch, settings):
    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    killed_during_the_post(hubee, monkeypatch, demarche)

    outcome = hubee.sync(demarche)
    assert outcome.pending_failures == 1
    failure = NotificationFailure.objects.get()
    assert failure.kind == "transient" and "130 s" in failure.error
    assert sandbox.status_pushes(case) == []
    assert OutgoingEvent.objects.get().attempts == 1  # not sent, not counted

    with time_machine.travel(timezone.now() + timedelta(seconds=131)):
        outcome = hubee.sync(demarche)
    assert outcome.pending_failures == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert OutgoingEvent.objects.get().state == "sent"
    assert sandbox.pending_si_notifications(demarche.subscription) == 0


def test_a_cut_off_push_that_reached_hubee_is_recorded_at_once(hubee, monkeypatch):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    real_create_event = HubEEClient.create_event

    def sent_then_killed(self, case_id, payload, **kwargs):
        real_create_event(self, case_id, payload, **kwargs)
        raise Killed

    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr(HubEEClient, "create_event", sent_then_killed)
        hubee.sync(demarche)

    assert hubee.sync(demarche).pending_failures == 0  # found on the case: no wait
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert OutgoingEvent.objects.get().state == "sent"


def test_a_push_whose_post_failed_is_retried_at_once(hubee, monkeypatch):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    outgoing = killed_during_the_post(hubee, monkeypatch, demarche)
    # The answer came back (an error): the outcome is known, nothing can still land.
    OutgoingEvent.objects.filter(pk=outgoing.pk).update(
        last_error="HubEE: HTTP 503", post_unanswered_since=None
    )

    assert hubee.sync(demarche).pending_failures == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]


def test_an_unanswered_post_is_held_until_it_cannot_land_then_sent_once(
    hubee, monkeypatch, settings
):
    """The POST timed out: HubEE may still create the event after our read-back found nothing.
    The push keeps its unfinished mark and waits for the HTTP timeouts before a new POST."""
    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    real_create_event = HubEEClient.create_event
    landed_late = []

    def times_out(self, case_id, payload, **kwargs):
        landed_late.append((self, case_id, payload, kwargs))
        raise TransientError("HubEE unreachable (ReadTimeout)", ambiguous=True)

    with monkeypatch.context() as patch:
        patch.setattr(HubEEClient, "create_event", times_out)
        assert hubee.sync(demarche).pending_failures == 1
    outgoing = OutgoingEvent.objects.get()
    assert outgoing.last_error == push.UNFINISHED_ATTEMPT

    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=60)):
        assert hubee.sync(demarche).pending_failures == 1  # held: it may still land
    assert sandbox.status_pushes(case) == []

    # It did land, late: the next try after the timeouts finds it instead of posting again.
    self_, case_id, payload, kwargs = landed_late[0]
    real_create_event(self_, case_id, payload, **kwargs)
    with time_machine.travel(start + timedelta(seconds=131)):
        assert hubee.sync(demarche).pending_failures == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts) == ("sent", 1)


def test_an_unanswered_post_that_never_landed_is_sent_once_after_the_timeouts(
    hubee, monkeypatch, settings
):
    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)

    def times_out(self, case_id, payload, **kwargs):
        raise TransientError("HubEE unreachable (ReadTimeout)", ambiguous=True)

    with monkeypatch.context() as patch:
        patch.setattr(HubEEClient, "create_event", times_out)
        hubee.sync(demarche)
    with time_machine.travel(timezone.now() + timedelta(seconds=131)):
        assert hubee.sync(demarche).pending_failures == 0
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert OutgoingEvent.objects.get().attempts == 2


def test_a_later_failure_never_erases_the_unanswered_mark(hubee, monkeypatch, settings):
    """The POST went unanswered; the next try fails earlier (reading the case): the mark and
    its window stay, so the try after that still does not post while the first may land."""
    from dossiers import tasks
    from dossiers.exchange import connection

    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    monkeypatch.setattr(connection, "client_for", hubee.client)  # the sandbox, in process
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    outgoing = killed_during_the_post(hubee, monkeypatch, demarche)
    start = timezone.now()

    def down(self, case_id):
        raise TransientError("HubEE injoignable", status_code=503)

    with monkeypatch.context() as patch, time_machine.travel(start + timedelta(seconds=30)):
        patch.setattr(HubEEClient, "get_case", down)
        tasks.send_outgoing(outgoing.dossier_id)
    outgoing.refresh_from_db()
    assert outgoing.post_unanswered_since is not None
    with time_machine.travel(start + timedelta(seconds=90)):
        tasks.send_outgoing(outgoing.dossier_id)
    assert sandbox.status_pushes(case) == []  # still inside the window: not posted
    with time_machine.travel(start + timedelta(seconds=131)):
        tasks.send_outgoing(outgoing.dossier_id)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]


def test_an_agent_retry_keeps_the_mark(hubee, monkeypatch, settings):
    from dossiers.exchange import connection
    from dossiers.exchange.outbound import queue
    from tests.factories import AdminFactory

    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    monkeypatch.setattr(connection, "client_for", hubee.client)  # the sandbox, in process
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    outgoing = killed_during_the_post(hubee, monkeypatch, demarche)
    OutgoingEvent.objects.filter(pk=outgoing.pk).update(state="failed")
    outgoing.refresh_from_db()
    queue.retry(outgoing, AdminFactory())  # sent at once (tasks run inline in tests)…
    outgoing.refresh_from_db()
    assert outgoing.state == "pending" and outgoing.post_unanswered_since is not None
    assert outgoing.unanswered_until() > timezone.now()
    assert sandbox.status_pushes(case) == []  # …but held while the first POST may land
