"""The columns the statistics read (migration 0017): which decision came first and the two
delays, kept by note_milestones and filled for older dossiers by the migration."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dossiers.exchange.outbound import queue
from dossiers.models import Dossier, OutgoingEvent
from dossiers.records.actions import ACTIONS
from tests.factories import DemarcheFactory, DossierFactory, agent_for

pytestmark = pytest.mark.django_db


@mock.patch.object(queue, "request_delivery")
def test_the_first_decision_and_the_delays_are_kept(_delivery):
    demarche = DemarcheFactory(allows_messages=True)
    agent = agent_for(demarche)
    dossier = DossierFactory(demarche=demarche, received_at=timezone.now() - timedelta(hours=5))
    taken = queue.perform(dossier, agent, ACTIONS["prendre-en-charge"])
    dossier.refresh_from_db()
    assert dossier.first_action_delay == round(
        (taken.created_at - dossier.received_at).total_seconds()
    )
    assert dossier.first_action_delay >= 5 * 3600
    assert (dossier.decision, dossier.decision_delay) == ("", None)

    # Delivered: the next status push may be queued.
    OutgoingEvent.objects.filter(dossier=dossier).update(state="sent")
    Dossier.objects.filter(pk=dossier.pk).update(status="IN_PROGRESS")
    refused = queue.perform(dossier, agent, ACTIONS["refuser"], message="Pièce manquante.")
    # A later DONE (the rules refuse it now; an older outbox row may hold one) changes nothing.
    later = OutgoingEvent.objects.create(dossier=dossier, case_new_status="DONE", author="x")
    queue.note_milestones(later)
    dossier.refresh_from_db()
    assert dossier.decision == "REFUSED"
    assert dossier.decision_delay == round(
        (refused.created_at - dossier.received_at).total_seconds()
    )
    assert dossier.first_action_delay <= dossier.decision_delay


def test_an_automatic_decision_has_a_delay_and_no_first_action():
    demarche = DemarcheFactory(automatic_status="SI_RECEIVED", automatic_final_status="DONE")
    dossier = DossierFactory(demarche=demarche, received_at=timezone.now() - timedelta(minutes=3))
    queue.queue_automatic_statuses(dossier)
    dossier.refresh_from_db()
    assert dossier.decision == "DONE"
    assert 3 * 60 <= dossier.decision_delay < 4 * 60
    assert dossier.first_action_delay is None


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_decision_and_the_delays():
    now = timezone.now().replace(microsecond=0)
    received = now - timedelta(days=3)
    refused, automatic, silent = (DossierFactory(received_at=received) for _ in range(3))

    def push(dossier, status, minutes, automatic=False):
        return OutgoingEvent.objects.create(
            dossier=dossier, case_new_status=status, author="x", automatic=automatic
        ).pk, received + timedelta(minutes=minutes)

    pushes = [
        push(refused, "IN_PROGRESS", 90),
        push(refused, "REFUSED", 24 * 60 + 30),
        push(refused, "DONE", 48 * 60),
        push(automatic, "SI_RECEIVED", 1, automatic=True),
        push(automatic, "DONE", 2, automatic=True),
    ]
    try:
        _migrate(("dossiers", "0015_list_indexes"))
        for pk, created in pushes:
            OutgoingEvent.objects.filter(pk=pk).update(created_at=created)
        _migrate(("dossiers", "0017_statistics"))
        figures = {
            d.pk: (d.decision, d.first_action_delay, d.decision_delay)
            for d in Dossier.objects.all()
        }
        assert figures[refused.pk] == ("REFUSED", 90 * 60, (24 * 60 + 30) * 60)
        assert figures[automatic.pk] == ("DONE", None, 2 * 60)
        assert figures[silent.pk] == ("", None, None)
    finally:
        _migrate(None)
