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

from dossiers import incidents, tasks
from dossiers.enums import FailureKind, RunStatus
from dossiers.models import Incident, NotificationFailure, SyncRun
from hubee_portal import health
from tests.operations.conftest import APPLICANT


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

    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        health.beat()
        assert incidents.evaluate() == (0, 1)
    incident.refresh_from_db()
    assert incident.closed_at is not None
    assert len(mail.outbox) == 1

    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert incidents.evaluate() == (1, 0)
    assert len(mail.outbox) == 2
    assert Incident.objects.filter(closed_at__isnull=True).count() == 1


def test_credentials_refused_and_keeps_failing(hubee, big_disk, settings):
    settings.HEALTH_FAILED_RUNS = 2
    demarche = hubee.demarche("EtatCivil", real_secret="mauvais")
    health.beat()
    hubee.sync(demarche)
    incidents.evaluate()
    assert [m.subject for m in mail.outbox] == ["[HubEE Portal] Identifiants HubEE refusés"]
    SyncRun.objects.create(demarche=demarche, status=RunStatus.FAILED, message="HubEE en panne")
    SyncRun.objects.create(demarche=demarche, status=RunStatus.FAILED, message="HubEE en panne")
    incidents.evaluate()
    assert {i.kind for i in Incident.objects.filter(closed_at__isnull=True)} == {"sync_failing"}
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "[HubEE Portal] Synchronisations en échec"


def test_given_up_notification_and_full_disk(healthy, monkeypatch):
    failure = NotificationFailure.objects.create(
        demarche=healthy,
        notification_id="00000000-0000-0000-0000-000000000002",
        kind=FailureKind.NOT_FOUND,
        error=APPLICANT["lastName"],
        given_up=True,
    )
    monkeypatch.setattr(health, "disk_usage", lambda path: (10 * 1024 * 1024, 10**12))
    assert incidents.evaluate() == (2, 0)
    assert incidents.evaluate() == (0, 0)
    assert sorted(m.subject for m in mail.outbox) == [
        "[HubEE Portal] Dossier de téléchargement presque plein",
        "[HubEE Portal] Notification HubEE abandonnée",
    ]
    for message in mail.outbox:
        assert APPLICANT["lastName"] not in message.body
        assert healthy.download_folder not in message.body
    failure.resolved_at = timezone.now()
    failure.save()
    assert incidents.evaluate() == (0, 1)


def test_scheduled_every_five_minutes_and_cron_command(healthy):
    tasks.ensure_schedule()
    schedule = Schedule.objects.get(name=tasks.INCIDENTS_SCHEDULE_NAME)
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
