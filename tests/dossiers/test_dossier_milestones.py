"""The columns the exchange and the database keep on each dossier (migration 0016): the work
queue of its status, the citizen's last message, an agent's first push, the decision."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dossiers.exchange.outbound import queue
from dossiers.models import Dossier, Evenement, OutgoingEvent
from dossiers.records.actions import ACTIONS
from dossiers.records.queues import QUEUE_STATUSES, Queue
from hubee_portal.hubee.vocabulary import CaseStatus
from tests.factories import DemarcheFactory, DossierFactory, EvenementFactory, agent_for

pytestmark = pytest.mark.django_db


def test_the_queue_column_follows_the_status_as_the_vocabulary_says():
    dossier = DossierFactory()
    for status in [*(s.value for s in CaseStatus), "STATUT_INCONNU"]:
        Dossier.objects.filter(pk=dossier.pk).update(status=status)
        expected = next(
            (queue for queue, statuses in QUEUE_STATUSES.items() if status in statuses),
            Queue.TODO,  # unknown statuses are « à traiter »
        )
        assert Dossier.objects.values_list("queue", flat=True).get(pk=dossier.pk) == expected


def test_last_citizen_at_moves_forward_only_and_only_for_the_citizen():
    dossier = DossierFactory()
    EvenementFactory(dossier=dossier, action_type="STATUS_UPDATE")
    EvenementFactory(dossier=dossier, action_type="SENDING_MESSAGE", direction="sent")
    dossier.refresh_from_db()
    assert dossier.last_citizen_at is None

    first = EvenementFactory(dossier=dossier, action_type="SENDING_MESSAGE")
    later = EvenementFactory(dossier=dossier, action_type="ATTACH_DEPOSIT")
    dossier.refresh_from_db()
    assert dossier.last_citizen_at == later.created_at
    # An older event stored afterwards (a notification replayed) does not move it back.
    Evenement.objects.filter(pk=first.pk).update(created_at=later.created_at - timedelta(days=1))
    from dossiers.exchange.inbound.mapping import note_citizen

    note_citizen(Evenement.objects.get(pk=first.pk))
    dossier.refresh_from_db()
    assert dossier.last_citizen_at == later.created_at


@mock.patch.object(queue, "request_delivery")
def test_first_action_and_decision_are_the_first_ones(_delivery):
    demarche = DemarcheFactory(allows_messages=True)
    agent = agent_for(demarche)
    dossier = DossierFactory(demarche=demarche)
    # An automatic status is no agent's action.
    demarche.automatic_status = CaseStatus.SI_RECEIVED
    automatic = queue.queue_automatic_statuses(dossier)
    dossier.refresh_from_db()
    assert automatic and dossier.first_action_at is None and dossier.decided_at is None

    def delivered(status):
        # What the outbox does once HubEE accepted: the next status push may be queued.
        OutgoingEvent.objects.filter(dossier=dossier).update(state="sent")
        Dossier.objects.filter(pk=dossier.pk).update(status=status)

    delivered(CaseStatus.SI_RECEIVED)
    taken = queue.perform(dossier, agent, ACTIONS["prendre-en-charge"])
    dossier.refresh_from_db()
    assert dossier.first_action_at == taken.created_at
    assert dossier.decided_at is None

    delivered(CaseStatus.IN_PROGRESS)
    done = queue.perform(dossier, agent, ACTIONS["traiter"], message="C'est fait.")
    queue.perform(dossier, agent, ACTIONS["message"], message="Encore un mot.")
    dossier.refresh_from_db()
    assert dossier.first_action_at == taken.created_at
    assert dossier.decided_at == done.created_at


def test_an_automatic_decision_counts_as_the_decision():
    demarche = DemarcheFactory(automatic_status="SI_RECEIVED", automatic_final_status="DONE")
    dossier = DossierFactory(demarche=demarche)
    queue.queue_automatic_statuses(dossier)
    dossier.refresh_from_db()
    final = OutgoingEvent.objects.get(dossier=dossier, case_new_status="DONE")
    assert dossier.decided_at == final.created_at
    assert dossier.first_action_at is None


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_dates_from_what_was_received_and_queued():
    now = timezone.now()
    talked, decided, silent = DossierFactory(), DossierFactory(), DossierFactory()
    messages = [
        EvenementFactory(dossier=talked, action_type="SENDING_MESSAGE"),
        EvenementFactory(dossier=talked, action_type="ATTACH_DEPOSIT"),
    ]
    EvenementFactory(dossier=silent, action_type="STATUS_UPDATE")

    def push(dossier, status, minutes, automatic=False):
        return OutgoingEvent.objects.create(
            dossier=dossier, case_new_status=status, author="x", automatic=automatic
        ).pk, now - timedelta(minutes=minutes)

    pushes = [
        push(decided, "SI_RECEIVED", 50, automatic=True),
        push(decided, "IN_PROGRESS", 40),
        push(decided, "REFUSED", 30),
        push(decided, "DONE", 20),
    ]
    try:
        _migrate(("dossiers", "0015_list_indexes"))
        for pk, created in pushes:
            OutgoingEvent.objects.filter(pk=pk).update(created_at=created)
        Evenement.objects.filter(pk=messages[0].pk).update(created_at=now - timedelta(hours=2))
        Evenement.objects.filter(pk=messages[1].pk).update(created_at=now - timedelta(hours=1))
        _migrate(("dossiers", "0016_queue_milestones"))
        # Only the columns 0016 knows: later migrations add others.
        columns = ("pk", "last_citizen_at", "first_action_at", "decided_at")
        dates = {pk: tuple(rest) for pk, *rest in Dossier.objects.values_list(*columns)}
        assert dates[talked.pk] == (now - timedelta(hours=1), None, None)
        assert dates[decided.pk] == (None, now - timedelta(minutes=40), now - timedelta(minutes=30))
        assert dates[silent.pk] == (None, None, None)
    finally:
        _migrate(None)
