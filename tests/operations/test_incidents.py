"""Alerts to administrators: one e-mail per incident, none on re-evaluation, closed when the
condition clears, a new occurrence mails again."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from dossiers import tasks
from dossiers.enums import FailureKind, RunFailure, RunStatus
from dossiers.models import Incident, NotificationFailure, SyncRun
from dossiers.operations import health, incidents, schedules
from tests.operations.conftest import APPLICANT, grow_fleet

# settings.EMAIL_SUBJECT_PREFIX of the tests (the demo: sandbox on).
PREFIX = "[DÉMONSTRATION] [Portail de réception HubEE] "


@pytest.fixture(autouse=True)
def admins(settings):
    settings.ADMINS = [("Informatique", "info@mairie.fr")]


def test_healthy_sends_nothing(healthy):
    assert incidents.evaluate() == (0, 0)
    assert mail.outbox == []


def test_worker_stops_beating_once_then_cleared_then_again(healthy):
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert incidents.evaluate() == (1, 0)
        assert incidents.evaluate() == (0, 0)
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert incidents.evaluate() == (0, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["info@mairie.fr"]
    assert "worker" in message.subject
    incident = Incident.objects.get()
    assert incident.kind == "worker" and incident.notified_at is not None

    def beat_and_evaluate(minutes: int) -> tuple[int, int]:
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            health.beat()
            return incidents.evaluate()

    # Back: closed only once it has stayed fine for 15 minutes.
    assert beat_and_evaluate(12) == (0, 0)
    assert beat_and_evaluate(22) == (0, 0)
    incident.refresh_from_db()
    assert incident.closed_at is None and len(mail.outbox) == 1
    assert beat_and_evaluate(27) == (0, 1)
    incident.refresh_from_db()
    assert incident.closed_at is not None and incident.closed_notified_at is not None
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == PREFIX + "Résolu : le worker ne donne plus signe de vie"
    assert beat_and_evaluate(28) == (0, 0)
    assert len(mail.outbox) == 2  # the end is announced once

    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        assert incidents.evaluate() == (1, 0)
    assert len(mail.outbox) == 3
    assert Incident.objects.filter(closed_at__isnull=True).count() == 1


def test_a_flapping_problem_stays_one_incident(healthy):
    """Gone at one check, back at the next: the same incident, no « Résolu » then a new mail."""
    start = timezone.now()
    for minutes, beats in ((6, False), (12, True), (20, False), (26, True), (35, False)):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            if beats:
                health.beat()
            incidents.evaluate()
    assert Incident.objects.count() == 1
    assert len(mail.outbox) == 1
    incident = Incident.objects.get()
    assert incident.closed_at is None and incident.clear_since is None


@pytest.mark.django_db(transaction=True)
def test_a_stale_report_never_clears_an_incident_opened_meanwhile(healthy, monkeypatch):
    """The cron's hubee_check and the worker at the same moment: the first read a healthy
    report; the second sees the worker gone and opens an incident. Reports are read inside the
    locked transaction, so the first cannot then apply its older report to the new incident.
    (On SQLite the IMMEDIATE transaction is the lock; on PostgreSQL, the lock row's UPDATE.)"""
    import threading
    import time

    from django.db import connection

    real_check = health.check
    first_has_its_report = threading.Event()

    def check(now=None):
        report = real_check(now)
        if threading.current_thread().name == "first":
            report.problems = []
            first_has_its_report.set()
            time.sleep(0.5)  # the second evaluation tries meanwhile
        else:
            report.problems = [health.Problem("worker", "", "Le worker est arrêté.")]
        return report

    monkeypatch.setattr(health, "check", check)

    def evaluate(wait: threading.Event | None):
        try:
            if wait:
                wait.wait(5)
            incidents.evaluate()
        finally:
            connection.close()

    first = threading.Thread(target=evaluate, args=(None,), name="first")
    second = threading.Thread(target=evaluate, args=(first_has_its_report,), name="second")
    first.start()
    second.start()
    first.join()
    second.join()
    incident = Incident.objects.get()
    assert incident.closed_at is None and incident.clear_since is None
    assert len(mail.outbox) == 1


def test_credentials_refused_and_keeps_failing(hubee, big_disk, settings):
    settings.HEALTH_FAILED_RUNS = 2
    demarche = hubee.demarche("EtatCivil", real_secret="mauvais")
    health.beat()
    hubee.sync(demarche)
    assert SyncRun.objects.get().failure_kind == RunFailure.CREDENTIALS
    incidents.evaluate()
    assert [m.subject for m in mail.outbox] == [PREFIX + "Identifiants HubEE refusés"]
    # What HubEE answered stays on « État du portail »: no HTTP code nor path in the mail.
    body = mail.outbox[0].body
    assert "HTTP" not in body and "/teledossiers" not in body and "oauth2" not in body
    assert "Le détail technique est sur la page « État du portail »" in body
    for _ in range(2):
        SyncRun.objects.create(
            demarche=demarche,
            status=RunStatus.FAILED,
            message="HubEE en panne",
            failure_kind=RunFailure.HUBEE,
        )
    incidents.evaluate()
    assert [m.subject for m in mail.outbox[1:]] == [PREFIX + "Synchronisations en échec"]
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        health.beat()
        incidents.evaluate()
    assert {i.kind for i in Incident.objects.filter(closed_at__isnull=True)} == {"sync_failing"}
    assert mail.outbox[-1].subject == PREFIX + "Résolu : identifiants HubEE refusés"


def test_given_up_notification_and_full_disk(healthy, monkeypatch):
    failure = NotificationFailure.objects.create(
        demarche=healthy,
        notification_id="00000000-0000-0000-0000-000000000002",
        kind=FailureKind.NOT_FOUND,
        error=APPLICANT["lastName"],
        given_up=True,
    )
    monkeypatch.setattr(health, "disk_usage", lambda path: (10 * 1024 * 1024, 10**12, 1))
    assert incidents.evaluate() == (2, 0)
    assert incidents.evaluate() == (0, 0)
    assert sorted(m.subject for m in mail.outbox) == [
        PREFIX + "Dossier de téléchargement presque plein",
        PREFIX + "Notification HubEE abandonnée",
    ]
    for message in mail.outbox:
        assert APPLICANT["lastName"] not in message.body
        assert healthy.download_folder not in message.body
    failure.resolved_at = timezone.now()
    failure.save()
    assert incidents.evaluate() == (0, 0)  # closed once gone for 15 minutes
    with time_machine.travel(timezone.now() + timedelta(minutes=15), tick=False):
        health.beat()
        assert incidents.evaluate() == (0, 1)
    assert mail.outbox[-1].subject == PREFIX + "Résolu : notification HubEE abandonnée"
    assert APPLICANT["lastName"] not in mail.outbox[-1].body


class FlakyMail:
    """mail_admins that fails the first `failures` times, like an SMTP server down."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, subject, body, fail_silently=False):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionRefusedError("smtp.mairie.fr:25 refused (admin@mairie.fr)")
        mail.mail_admins(subject, body, fail_silently=fail_silently)


def test_failed_mail_is_retried_with_a_growing_delay(healthy, monkeypatch):
    flaky = FlakyMail(failures=2)
    monkeypatch.setattr(incidents, "mail_admins", flaky)
    start = timezone.now() + timedelta(minutes=6)  # the worker is silent from here on
    with time_machine.travel(start, tick=False):
        assert incidents.evaluate() == (1, 0)
    incident = Incident.objects.get()
    assert (incident.notified_at, incident.mail_attempts) == (None, 1)
    assert incident.mail_error.startswith("Envoi impossible (ConnectionRefusedError)")
    assert "admin@mairie.fr" not in incident.mail_error
    # Every five minutes the check runs; the retries wait 5, then 10 minutes.
    for minutes, calls in ((4, 1), (5, 2), (10, 2), (15, 3)):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            incidents.evaluate()
        assert flaky.calls == calls, minutes
    incident.refresh_from_db()
    assert incident.notified_at is not None
    assert (incident.mail_attempts, incident.mail_error) == (0, "")
    assert len(mail.outbox) == 1
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        incidents.evaluate()
    assert flaky.calls == 3


def test_retry_delay_is_capped():
    assert incidents.retry_delay(1) == timedelta(minutes=5)
    assert incidents.retry_delay(3) == timedelta(minutes=20)
    assert incidents.retry_delay(30) == timedelta(hours=6)


def test_no_recipient_is_not_counted_as_told(healthy, settings):
    settings.ADMINS = []
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        incidents.evaluate()
    incident = Incident.objects.get()
    assert incident.notified_at is None
    assert incident.mail_error == incidents.NO_RECIPIENT
    settings.ADMINS = [("Informatique", "info@mairie.fr")]
    with time_machine.travel(timezone.now() + timedelta(minutes=12), tick=False):
        incidents.evaluate()
    incident.refresh_from_db()
    assert incident.notified_at is not None and len(mail.outbox) == 1


def test_incident_cleared_before_any_mail_gets_none(healthy, monkeypatch):
    monkeypatch.setattr(incidents, "mail_admins", FlakyMail(failures=99))
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        incidents.evaluate()
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        health.beat()
        assert incidents.evaluate() == (0, 0)
    with time_machine.travel(start + timedelta(minutes=22), tick=False):
        health.beat()
        assert incidents.evaluate() == (0, 1)
    monkeypatch.setattr(incidents, "mail_admins", mail.mail_admins)
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        health.beat()
        incidents.evaluate()
    assert mail.outbox == []
    assert not incidents.awaiting_mail().exists()


def test_an_attempt_claimed_elsewhere_is_not_sent_twice(healthy):
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        incidents.evaluate()  # opened and mailed
        incident = Incident.objects.get()
        # Another worker already claimed the closing mail's first attempt.
        Incident.objects.filter(pk=incident.pk).update(closed_at=timezone.now(), mail_attempts=1)
        assert incidents.send_due_mails() == 0
    assert len(mail.outbox) == 1


def test_scheduled_every_five_minutes_and_cron_command(healthy):
    schedules.ensure_schedule()
    schedule = Schedule.objects.get(name=schedules.INCIDENTS_SCHEDULE_NAME)
    assert (schedule.func, schedule.minutes) == ("dossiers.tasks.evaluate_incidents", 5)
    assert tasks.evaluate_incidents() == {"opened": 0, "closed": 0}
    out = StringIO()
    call_command("hubee_check", stdout=out)
    assert "Portail en bonne santé." in out.getvalue()
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False), pytest.raises(SystemExit) as exit_:
        call_command("hubee_check", stdout=out)
    assert exit_.value.code == 1
    assert len(mail.outbox) == 1


def test_query_count_does_not_grow_with_demarches(healthy):
    # Issue 22: the check every 5 minutes at 2,500 démarches. Opening an incident costs its
    # row and its mail; an evaluation that finds them open costs the same at 3 as at 12.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert incidents.evaluate() == (0, 0)
        return len(captured)

    grow_fleet(2)
    incidents.evaluate()
    few = queries()
    grow_fleet(9)
    assert incidents.evaluate() == (9, 0)
    assert queries() == few
    assert Incident.objects.filter(closed_at__isnull=True).count() == 11
    assert len(mail.outbox) == 11


def fail_runs(demarche, times: int) -> None:
    for _ in range(times):
        SyncRun.objects.create(
            demarche=demarche,
            status=RunStatus.FAILED,
            message="HubEE en panne",
            failure_kind=RunFailure.HUBEE,
            finished_at=timezone.now(),
        )


def test_hubee_down_for_many_demarches_is_one_incident_per_connection(healthy, hubee, settings):
    """An operator's 2,500 démarches share one connection: HubEE down is one e-mail, not one per
    démarche (and again one when it comes back)."""
    settings.HEALTH_FAILED_RUNS = 2
    others = [hubee.demarche(code) for code in ("recensementCitoyen", "CERTDC", "JCC")]
    for demarche in [healthy, *others]:
        fail_runs(demarche, 2)
    report = health.check()
    failing = [p for p in report.problems if p.kind == "sync_failing"]
    assert len(failing) == 1
    (problem,) = failing
    assert problem.subject == f"connection-{healthy.connection_id}"
    assert sorted(problem.demarche_ids) == sorted(d.pk for d in [healthy, *others])
    assert "Connexion « Bac à sable », 4 démarches" in problem.detail
    assert incidents.evaluate() == (1, 0)
    assert len(mail.outbox) == 1
    assert all(not entry["ok"] for entry in report.as_json()["demarches"])


def test_one_failing_demarche_keeps_its_own_incident(healthy, hubee, settings):
    settings.HEALTH_FAILED_RUNS = 2
    hubee.demarche("recensementCitoyen")
    fail_runs(healthy, 2)
    (problem,) = [p for p in health.check().problems if p.kind == "sync_failing"]
    assert problem.subject == f"demarche-{healthy.pk}"
    assert problem.detail == (
        f"Démarche {healthy.pk} (EtatCivil) : les 2 dernières synchronisations ont échoué."
    )


def test_a_long_list_of_demarches_is_cut_in_the_message(healthy, hubee, settings, monkeypatch):
    monkeypatch.setattr(health, "LISTED_IDS", 2)
    settings.HEALTH_FAILED_RUNS = 1
    others = [hubee.demarche(code) for code in ("recensementCitoyen", "CERTDC")]
    for demarche in [healthy, *others]:
        fail_runs(demarche, 1)
    (problem,) = [p for p in health.check().problems if p.kind == "sync_failing"]
    assert "3 démarches" in problem.detail and "et 1 autre(s)" in problem.detail
