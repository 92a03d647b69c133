"""Behaviour issue 12's restructure had changed, found in its review: each test states the
behaviour of d6c4767 it keeps."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.models import Schedule

from dossiers.exchange import connection as exchange_connection
from dossiers.exchange import run
from dossiers.exchange.inbound.journal import SyncOutcome
from dossiers.exchange.outbound import delivery
from dossiers.models import OutgoingEvent
from tests.factories import DemarcheFactory, DossierFactory


def push(dossier, **kwargs):
    return OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="DONE", author="Agent", **kwargs
    )


@pytest.mark.django_db
def test_no_push_is_delivered_once_the_run_has_lost_its_lease(monkeypatch):
    """d6c4767 flushed the outbox after the sync through send_outgoing, which took the lease
    again per dossier: a run whose lease was lost (taken over by another server) posted nothing.
    run_demarche now delivers under the sync's keeper and never looks at keeper.lost: two
    servers may deliver the same dossier at once (deliver_dossier claims with due_only=False)."""
    demarche = DemarcheFactory(enabled=True)
    dossier = DossierFactory(demarche=demarche)
    push(dossier)

    def sync_then_lose_the_lease(demarche, keeper, *, client=None, concurrency=None):
        keeper.lost.set()  # another server has the démarche now
        return SyncOutcome(demarche, None)

    monkeypatch.setattr(run, "run_sync", sync_then_lose_the_lease)
    monkeypatch.setattr(exchange_connection, "client_for", lambda d: object())
    posted = []
    monkeypatch.setattr(delivery, "_deliver", lambda d, client=None: posted.append(d.pk))
    monkeypatch.setattr(run.alerts, "send_immediate_alerts", lambda: 0)
    run.run_demarche(demarche.pk)
    assert posted == []


BEFORE = ("dossiers", "0009_view_all_dossiers_permission")
AFTER = ("dossiers", "0010_outgoing_next_attempt")
RETRY = "Nouvel essai d'envoi HubEE, dossier "
WAIT = "Envoi HubEE après la synchronisation, dossier "


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_earlier_of_a_retry_and_a_wait_schedule():
    """Before 0010 both Schedules ran dossiers.tasks.send_outgoing, which sends whatever the
    backoff: the first to fire sent the pushes. A WAIT (an agent's action that found a sync
    running, due in 30 s) beside a RETRY backed off 15 min went out after 30 s. 0010 keeps the
    earlier of the two, as the old behaviour sent at the first."""
    dossier = DossierFactory()
    push(dossier)
    try:
        migrate(BEFORE)
        now = timezone.now()
        for name, at in ((RETRY, now + timedelta(minutes=15)), (WAIT, now + timedelta(seconds=30))):
            Schedule.objects.create(
                name=f"{name}{dossier.pk}",
                func="dossiers.tasks.send_outgoing",
                args=repr(dossier.pk),
                schedule_type=Schedule.ONCE,
                repeats=-1,
                next_run=at,
            )
        migrate(AFTER)
        (at,) = set(
            OutgoingEvent.objects.filter(dossier=dossier).values_list("next_attempt_at", flat=True)
        )
        assert at == now + timedelta(seconds=30)
    finally:
        migrate(AFTER)


def test_import_contracts_forbid_cycles_inside_the_dossiers_packages():
    """Issue 12: « inside dossiers: models ← records ← exchange ← operations, web, tasks; no
    cycles ». The acyclic_siblings contract names only dossiers, demarches and the protocol,
    alone check the children of `dossiers` against each other, not the modules inside
    records/, exchange/, operations/, web/, models/ (`from dossiers.records import access` in
    records/audit.py, where access imports audit, was not caught): every package is listed."""
    import tomllib
    from pathlib import Path

    import dossiers

    config = tomllib.loads(
        (Path(dossiers.__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    )
    covered = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "acyclic_siblings":
            covered.update(contract["ancestors"])
    root = Path(dossiers.__file__).parent
    packages = {
        "dossiers." + ".".join(init.parent.relative_to(root).parts)
        for init in root.glob("*/**/__init__.py")
        if not {"migrations", "management", "__pycache__"} & set(init.parts)
    }
    assert sorted(packages - covered) == []


@pytest.mark.django_db
def test_a_demarche_deleted_during_its_failing_run_never_stops_the_others(monkeypatch):
    """sync_all (d6c4767) held the Demarche objects: a run that raised became an outcome and
    the loop went on. run_all gets ids from hubee_sync and, when a run raises, reads the démarche
    again with Demarche.objects.get (run.py, except branch): if an administrator deleted it
    meanwhile (the likely cause of the failure), DoesNotExist escapes, the next démarches are
    not synced and the alerts are not sent."""
    gone, other = DemarcheFactory(enabled=True), DemarcheFactory(enabled=True)
    ran = []

    def fake_run(demarche, *, concurrency=None, send_alerts=True):
        pk = demarche.pk if hasattr(demarche, "pk") else demarche
        if pk == gone.pk:
            gone.delete()
            raise RuntimeError("démarche supprimée pendant la synchronisation")
        ran.append(pk)
        return run.DemarcheResult(other, SyncOutcome(other, None))

    monkeypatch.setattr(run, "run_demarche", fake_run)
    monkeypatch.setattr(run.alerts, "send_immediate_alerts", lambda: 0)
    gone_pk = gone.pk
    results = run.run_all([gone_pk, other.pk])
    assert ran == [other.pk]
    assert results[0].error
