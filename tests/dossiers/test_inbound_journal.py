"""RunJournal: a failed notification journaled, given up after the connection's
not_found_attempts runs answering 404, resolved once handled; the run's row at the end; a
notification held back by a cut status POST says until when it waits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dossiers.enums import FailureKind, RunFailure, RunStatus
from dossiers.exchange.inbound.journal import RunJournal, SyncContext
from dossiers.models import NotificationFailure, SyncRun
from dossiers.records.periods import minute_after
from hubee_portal.hubee import HubEEClient, HubEEError, NotFoundError, Notification
from tests.factories import DemarcheFactory

pytestmark = pytest.mark.django_db


class FakeClient:
    """Only what the journal calls: the call counter and the deletion of a notification."""

    def __init__(self, delete_error: Exception | None = None) -> None:
        self.stats = SimpleNamespace(calls=0)
        self.deleted: list[str] = []
        self.delete_error = delete_error

    def delete_notification(self, notification_id: str) -> None:
        self.stats.calls += 1
        if self.delete_error is not None:
            raise self.delete_error
        self.deleted.append(notification_id)


def journal_for(demarche, client: FakeClient) -> RunJournal:
    run = SyncRun.objects.create(demarche=demarche)
    return RunJournal(SyncContext.start(demarche, client, run))


def a_notification() -> Notification:
    return Notification.from_api(
        {"id": str(uuid.uuid4()), "caseId": str(uuid.uuid4()), "eventId": None}
    )


def test_a_failure_is_journaled_and_counted(tmp_path, caplog):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    journal = journal_for(demarche, FakeClient())
    notification = a_notification()
    journal.record_failure(notification, FailureKind.TRANSIENT, "HubEE indisponible")
    journal.record_failure(notification, FailureKind.TRANSIENT, "HubEE toujours indisponible")
    failure = NotificationFailure.objects.get()
    assert (failure.kind, failure.error, failure.attempts) == (
        FailureKind.TRANSIENT,
        "HubEE toujours indisponible",
        2,
    )
    assert failure.case_id is not None and str(failure.case_id) == notification.case_id
    assert failure.last_run == journal.context.run and not failure.given_up
    assert journal.failed == {notification.id}
    assert journal.context.counters.errors == 2
    assert journal.pending_failures() == 1
    assert notification.id in caplog.text


def test_given_up_after_the_connections_not_found_attempts(tmp_path):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    demarche.connection.not_found_attempts = 3
    demarche.connection.save()
    client = FakeClient()
    notification = a_notification()
    for run in range(3):
        journal_for(demarche, client).record_failure(
            notification, FailureKind.NOT_FOUND, "Cas introuvable", not_found=True
        )
        failure = NotificationFailure.objects.get()
        assert failure.not_found_runs == run + 1
        assert failure.given_up == (run == 2)
    assert client.deleted == [notification.id]
    assert failure.given_up_at is not None
    assert journal_for(demarche, client).pending_failures() == 0


def test_a_notification_already_gone_is_given_up_too(tmp_path):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    demarche.connection.not_found_attempts = 1
    demarche.connection.save()
    journal = journal_for(demarche, FakeClient(NotFoundError("déjà supprimée")))
    journal.record_failure(a_notification(), FailureKind.NOT_FOUND, "404", not_found=True)
    assert NotificationFailure.objects.get().given_up


def test_not_given_up_when_hubee_refuses_the_deletion(tmp_path):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    demarche.connection.not_found_attempts = 1
    demarche.connection.save()
    journal = journal_for(demarche, FakeClient(HubEEError("erreur 500")))
    journal.record_failure(a_notification(), FailureKind.NOT_FOUND, "404", not_found=True)
    failure = NotificationFailure.objects.get()
    assert not failure.given_up
    assert "Suppression impossible : erreur 500" in failure.error


def test_a_handled_notification_resolves_its_entry_and_a_new_failure_reopens_it(tmp_path):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    journal = journal_for(demarche, FakeClient())
    notification = a_notification()
    journal.record_failure(notification, FailureKind.LOCAL, "Erreur disque")
    journal.resolve(notification)
    assert NotificationFailure.objects.get().resolved_at is not None
    assert journal.pending_failures() == 0
    journal.record_failure(notification, FailureKind.LOCAL, "Erreur disque")
    assert NotificationFailure.objects.get().resolved_at is None


def test_the_run_row_says_how_it_ended(tmp_path):
    demarche = DemarcheFactory(download_folder=str(tmp_path))
    client = FakeClient()
    journal = journal_for(demarche, client)
    journal.context.counters.add(notifications_handled=2, dossiers_created=1)
    client.stats.calls = 5
    journal.finish(None, RunFailure.NONE)
    run = SyncRun.objects.get()
    assert (run.status, run.notifications_handled, run.api_calls) == (RunStatus.OK, 2, 5)

    partial = journal_for(demarche, client)
    partial.record_failure(a_notification(), FailureKind.TRANSIENT, "x")
    partial.finish(None, RunFailure.NONE)
    assert partial.context.run.status == RunStatus.PARTIAL
    assert partial.context.run.message.startswith("1 notification(s) en échec")

    failed = journal_for(demarche, client)
    failed.finish("HubEE : refus", RunFailure.HUBEE)
    assert (failed.context.run.status, failed.context.run.errors) == (RunStatus.FAILED, 1)
    assert failed.context.run.failure_kind == RunFailure.HUBEE


# -- a notification held back by a cut status POST (issue 12, bug 3) --------------------------


class Killed(BaseException):
    """Not an Exception: nothing in the sync catches it, as with kill -9."""


def test_a_held_back_notification_says_what_it_waits_for_and_until_when(
    hubee, monkeypatch, settings, caplog
):
    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    hubee.deposit(demarche)
    cut_at = datetime(2026, 3, 2, 10, 40, 30, tzinfo=ZoneInfo(settings.TIME_ZONE))

    def killed(self, case_id, payload, **kwargs):
        raise Killed

    with (
        time_machine.travel(cut_at, tick=False),
        monkeypatch.context() as patch,
        pytest.raises(Killed),
    ):
        patch.setattr(HubEEClient, "create_event", killed)
        hubee.sync(demarche)
    # The POST may still land until 10:42:40 (10 + 120 s): shown as 10:43, never earlier.
    with time_machine.travel(cut_at + timedelta(seconds=60), tick=False):
        caplog.clear()
        outcome = hubee.sync(demarche)

    assert outcome.pending_failures == 1
    failure = NotificationFailure.objects.get()
    assert failure.kind == FailureKind.TRANSIENT
    assert "interrompu" in failure.error and "130 s" in failure.error
    assert failure.error.endswith("En attente de la fin du délai d'un envoi coupé, jusqu'à 10:43.")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        line.endswith("transient, en attente de la fin du délai d'un envoi coupé, jusqu'à 10:43")
        for line in warnings
    ), warnings


def test_the_time_shown_is_rounded_up_to_the_minute(settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    assert minute_after(datetime(2026, 3, 2, 10, 42, 0, tzinfo=tz)) == "10:42"
    assert minute_after(datetime(2026, 3, 2, 10, 42, 0, 1, tzinfo=tz)) == "10:43"
    assert minute_after(datetime(2026, 3, 2, 23, 59, 30, tzinfo=tz)) == "00:00"
