"""/healthz as the monitoring tool reads it (its token): 200 when all is well, 503 in each
condition that needs a person, no personal data, no login. What anonymous callers get:
tests/security/test_finding7_healthz_mailto.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from dossiers.enums import FailureKind, RunFailure, RunStatus
from dossiers.models import Dossier, NotificationFailure, SyncRun
from dossiers.operations import health
from tests.conftest import log_in
from tests.factories import staff_with
from tests.operations.conftest import APPLICANT, grow_fleet

URL = reverse("healthz")
TOKEN = "jeton-de-la-supervision"


@pytest.fixture
def client(client, settings):
    """The monitoring tool: it sends settings.HEALTHZ_TOKEN."""
    settings.HEALTHZ_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def kinds(response) -> set[str]:
    return {p["kind"] for p in response.json()["problems"]}


def test_healthy_answers_200_to_the_monitoring_token(client, healthy):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["worker"]["ok"] is True
    [entry] = body["demarches"]
    assert entry["id"] == healthy.pk
    assert entry["process_code"] == "EtatCivil"
    assert entry["last_successful_sync"] is not None
    assert body["disk"][0]["folder"] == f"demarche-{healthy.pk}"
    assert response["Cache-Control"].startswith("max-age=0")


def test_no_personal_data(client, healthy, hubee):
    # A refused credential and a given-up notification add their texts: still nothing personal.
    dossier = Dossier.objects.get()
    assert dossier.applicant_last_name == APPLICANT["lastName"]
    NotificationFailure.objects.create(
        demarche=healthy,
        notification_id=dossier.hubee_case_id,
        kind=FailureKind.NOT_FOUND,
        error=f"Dossier {dossier.external_id} de {APPLICANT['lastName']}",
        given_up=True,
    )
    text = client.get(URL).content.decode()
    raw = json.dumps(json.loads(text), ensure_ascii=False)
    for value in (*APPLICANT.values(), dossier.external_id, healthy.download_folder, "demande"):
        assert value not in raw
        assert value not in text


def test_database_down(client, healthy, monkeypatch):
    class Broken:
        def __enter__(self):
            raise DatabaseError("down")

        def __exit__(self, *args):
            return False

    with monkeypatch.context() as patch:
        patch.setattr(health.connection, "cursor", lambda: Broken())
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False}
    assert kinds(response) == {"database"}


def test_worker_silent_for_more_than_five_minutes(client, healthy):
    with time_machine.travel(timezone.now() + timedelta(minutes=4), tick=False):
        assert client.get(URL).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"worker"}


def test_worker_never_beat(client, healthy):
    from dossiers.models import Heartbeat

    Heartbeat.objects.all().delete()
    response = client.get(URL)
    assert response.status_code == 503
    assert "worker" in kinds(response)


def test_stale_sync_of_an_enabled_demarche(client, healthy, settings):
    settings.HEALTH_SYNC_MAX_AGE_MINUTES = 30
    later = timezone.now() + timedelta(minutes=31)
    with time_machine.travel(later, tick=False):
        health.beat()
        response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"sync_stale"}
    assert response.json()["problems"][0]["subject"] == f"demarche-{healthy.pk}"


def test_stale_sync_of_a_disabled_demarche_is_fine(client, healthy, settings):
    settings.HEALTH_SYNC_MAX_AGE_MINUTES = 30
    healthy.enabled = False
    healthy.save()
    later = timezone.now() + timedelta(minutes=31)
    with time_machine.travel(later, tick=False):
        health.beat()
        assert client.get(URL).status_code == 200


def test_credentials_refused(client, hubee, big_disk):
    demarche = hubee.demarche("EtatCivil", real_secret="mauvais-secret")
    hubee.sync(demarche)
    health.beat()
    assert SyncRun.objects.get().status == RunStatus.FAILED
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"credentials"}


def test_credentials_read_from_the_failure_kind_not_the_message(client, healthy):
    SyncRun.objects.create(
        demarche=healthy,
        status=RunStatus.FAILED,
        message="Identifiants refusés par HubEE : texte recopié dans un autre message",
        failure_kind=RunFailure.HUBEE,
    )
    assert kinds(client.get(URL)) == set()
    SyncRun.objects.create(
        demarche=healthy,
        status=RunStatus.FAILED,
        message="HTTP 401",
        failure_kind=RunFailure.CREDENTIALS,
    )
    assert kinds(client.get(URL)) == {"credentials"}


def test_migration_backfills_the_failure_kind_of_older_runs(healthy):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("dossiers.migrations.0004_incident_mail_failure_kind")
    texts = {
        "Identifiants refusés par HubEE : HTTP 401": RunFailure.CREDENTIALS,
        "HubEE injoignable ou en erreur : délai dépassé": RunFailure.HUBEE,
        "Dossier de téléchargement inutilisable (/srv) : No space left": RunFailure.DISK,
    }
    runs = {
        SyncRun.objects.create(demarche=healthy, status=RunStatus.FAILED, message=text).pk: kind
        for text, kind in texts.items()
    }
    migration.backfill_failure_kind(apps, None)
    for pk, kind in runs.items():
        assert SyncRun.objects.get(pk=pk).failure_kind == kind
    assert SyncRun.objects.exclude(pk__in=runs).get().failure_kind == ""


def test_keeps_failing(client, healthy, settings):
    settings.HEALTH_FAILED_RUNS = 3
    for _ in range(2):
        SyncRun.objects.create(demarche=healthy, status=RunStatus.FAILED, message="HubEE en panne")
    assert client.get(URL).status_code == 200
    SyncRun.objects.create(demarche=healthy, status=RunStatus.FAILED, message="HubEE en panne")
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"sync_failing"}


def test_given_up_notification_until_acknowledged(client, healthy, admin_client):
    failure = NotificationFailure.objects.create(
        demarche=healthy,
        notification_id="00000000-0000-0000-0000-000000000001",
        kind=FailureKind.NOT_FOUND,
        error="404",
        given_up=True,
    )
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"given_up"}
    assert response.json()["notifications"] == {"given_up_unacknowledged": 1}
    admin_client.post(
        reverse("admin:dossiers_notificationfailure_changelist"),
        {"action": "acknowledge", "_selected_action": [failure.pk]},
    )
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert client.get(URL).status_code == 200


def test_a_view_only_account_cannot_acknowledge_a_given_up_notification(client, healthy):
    failure = NotificationFailure.objects.create(
        demarche=healthy,
        notification_id="00000000-0000-0000-0000-000000000001",
        kind=FailureKind.NOT_FOUND,
        error="404",
        given_up=True,
    )
    log_in(client, staff_with("demarches.view_demarche", "dossiers.view_notificationfailure"))
    changelist = reverse("admin:dossiers_notificationfailure_changelist")
    client.post(changelist, {"action": "acknowledge", "_selected_action": [failure.pk]})
    failure.refresh_from_db()
    assert failure.resolved_at is None
    assert client.get(URL).status_code == 503
    page = client.get(changelist)
    assert page.status_code == 200 and str(failure.notification_id) in page.content.decode()
    assert 'value="acknowledge"' not in page.content.decode()  # nor offered


def test_low_disk_space(client, healthy, monkeypatch, settings):
    settings.HEALTH_MIN_FREE_MB = 1024
    monkeypatch.setattr(health, "disk_usage", lambda path: (1023 * 1024 * 1024, 10 * 1024**3, 1))
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"disk"}
    assert response.json()["disk"][0]["ok"] is False


def test_files_missing_or_altered_at_the_last_integrity_check(client, healthy):
    from dossiers.models import IntegrityCheck, PieceJointe
    from dossiers.operations.integrity import verify_demarche

    piece = PieceJointe.objects.first()
    piece.absolute_path.write_bytes(b"modifie")
    verify_demarche(healthy)
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"integrity"}
    assert piece.file_name not in response.content.decode()
    # A check still running says nothing yet; a finished clean one clears it.
    IntegrityCheck.objects.create(demarche=healthy)
    assert client.get(URL).status_code == 503
    piece.absolute_path.write_bytes(b"")
    PieceJointe.objects.filter(pk=piece.pk).delete()
    verify_demarche(healthy)
    assert client.get(URL).status_code == 200


def test_a_purge_that_left_files(client, healthy):
    from dossiers.models import PurgeRun

    PurgeRun.objects.create(details={"dossiers": [1, 2], "errors": [2]})
    response = client.get(URL)
    assert response.status_code == 503
    assert kinds(response) == {"purge"}
    PurgeRun.objects.create(details={"dossiers": [2], "errors": []})
    assert client.get(URL).status_code == 200


def test_real_disk_usage_of_a_missing_folder(tmp_path):
    free, total, device = health.disk_usage(tmp_path / "pas" / "encore" / "cree")
    assert device == tmp_path.stat().st_dev
    assert 0 < free <= total


@pytest.mark.parametrize("method", ["post", "put"])
def test_get_only(client, healthy, method):
    assert getattr(client, method)(URL).status_code == 405


def test_one_full_disk_is_one_problem_for_all_its_folders(client, healthy, hubee, monkeypatch):
    other = hubee.demarche("recensementCitoyen")
    SyncRun.objects.create(demarche=other, status=RunStatus.OK, finished_at=timezone.now())
    monkeypatch.setattr(health, "disk_usage", lambda path: (10 * 1024 * 1024, 10**12, 42))
    response = client.get(URL)
    disk = [p for p in response.json()["problems"] if p["kind"] == "disk"]
    assert len(disk) == 1
    assert f"des démarches {healthy.pk}, {other.pk} (même disque)" in disk[0]["detail"]
    assert [d["ok"] for d in response.json()["disk"]] == [False, False]
    monkeypatch.setattr(
        health, "disk_usage", lambda path: (10 * 1024 * 1024, 10**12, hash(str(path)))
    )
    disk = [p for p in client.get(URL).json()["problems"] if p["kind"] == "disk"]
    assert len(disk) == 2


def _queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    return len(queries)


def test_query_count_does_not_grow_with_demarches(client, healthy):
    # Issue 22: an operator runs 2,500 démarches; /healthz reads their last pass at once.
    grow_fleet(2)
    few = _queries(client)
    grow_fleet(9)
    assert len(client.get(URL).json()["demarches"]) == 12
    assert _queries(client) == few


def test_each_download_folder_is_looked_at_once(client, healthy, monkeypatch):
    from tests.factories import DemarcheFactory

    other = DemarcheFactory(download_folder=healthy.download_folder)
    third = DemarcheFactory()
    looked = []

    def usage(path):
        looked.append(str(path))
        return (500 * 1024**3, 1000 * 1024**3, 1)

    monkeypatch.setattr(health, "disk_usage", usage)
    body = client.get(URL).json()
    assert sorted(looked) == sorted([healthy.download_folder, third.download_folder])
    assert [d["folder"] for d in body["disk"]] == [
        f"demarche-{pk}" for pk in sorted([healthy.pk, other.pk, third.pk])
    ]


def test_an_idle_poll_keeps_a_demarche_fresh_and_clears_its_failures(client, healthy, settings):
    # Idle polls write no SyncRun: the démarche's last pass (DemarchePoll) says it synced.
    from dossiers.records import polls

    settings.HEALTH_SYNC_MAX_AGE_MINUTES = 30
    settings.HEALTH_FAILED_RUNS = 2
    for _ in range(2):
        SyncRun.objects.create(demarche=healthy, status=RunStatus.FAILED, message="HubEE en panne")
    assert kinds(client.get(URL)) == {"sync_failing"}
    later = timezone.now() + timedelta(minutes=31)
    with time_machine.travel(later, tick=False):
        health.beat()
        polls.record_idle([healthy.pk], timezone.now())
        response = client.get(URL)
    assert response.status_code == 200
    [entry] = response.json()["demarches"]
    assert entry["last_successful_sync"] == later.isoformat()
    assert entry["last_run_status"] == RunStatus.OK
    assert SyncRun.objects.count() == 3  # the sync of the fixture and the two failures


def test_refused_credentials_stay_while_the_next_run_goes_on(client, healthy):
    SyncRun.objects.create(
        demarche=healthy, status=RunStatus.FAILED, failure_kind=RunFailure.CREDENTIALS
    )
    SyncRun.objects.create(demarche=healthy, status=RunStatus.RUNNING)
    response = client.get(URL)
    assert kinds(response) == {"credentials"}
    assert response.json()["demarches"][0]["last_run_status"] == RunStatus.RUNNING


def test_migration_fills_each_demarches_last_pass_from_its_journal(client, healthy, settings):
    # Upgraded from a version without DemarchePoll: /healthz reads the journal's last runs,
    # not « never synced » (which would mail an alert per démarche).
    from importlib import import_module

    from django.apps import apps

    from dossiers.models import DemarchePoll
    from tests.factories import DemarcheFactory

    settings.HEALTH_FAILED_RUNS = 2
    migration = import_module("dossiers.migrations.0023_demarche_poll_backfill")
    failing = DemarcheFactory()
    SyncRun.objects.create(demarche=failing, status=RunStatus.OK, finished_at=timezone.now())
    for _ in range(2):
        SyncRun.objects.create(
            demarche=failing, status=RunStatus.FAILED, failure_kind=RunFailure.HUBEE
        )
    never = DemarcheFactory()
    expected = {
        row.pk: (row.polled_at, row.succeeded_at, row.status, row.failures_in_row)
        for row in DemarchePoll.objects.all()
    }
    DemarchePoll.objects.all().delete()
    migration.backfill(apps, None)
    rows = {
        row.pk: (row.polled_at, row.succeeded_at, row.status, row.failures_in_row)
        for row in DemarchePoll.objects.all()
    }
    assert rows == expected
    assert set(rows) == {healthy.pk, failing.pk} and never.pk not in rows
    assert rows[failing.pk][2:] == (RunStatus.FAILED, 2)
    assert kinds(client.get(URL)) == {"sync_failing"}
