"""dossiers/exchange/run.py: one pass per démarche (sync, then the due pushes, under one
lease), each démarche in turn; behaviour kept from before the restructure of issue 12."""

import pytest

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
