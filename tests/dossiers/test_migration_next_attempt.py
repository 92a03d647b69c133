"""Migration 0010: the retry Schedules named after a dossier become next_attempt_at on its
pending rows, then are deleted; reversible."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.models import Schedule

from dossiers.models import OutgoingEvent
from tests.factories import DossierFactory

BEFORE = ("dossiers", "0009_view_all_dossiers_permission")
AFTER = ("dossiers", "0010_outgoing_next_attempt")
RETRY = "Nouvel essai d'envoi HubEE, dossier "
WAIT = "Envoi HubEE après la synchronisation, dossier "


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def migrate_to_latest():
    """Leave the schema as the other tests expect it (later migrations add columns)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def once(name, next_run):
    return Schedule.objects.create(
        name=name,
        func="dossiers.tasks.send_outgoing",
        args=repr(int(name.rsplit(" ", 1)[1])) if name[-1].isdigit() else "",
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=next_run,
    )


def pending(dossier, state="pending"):
    return OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="DONE", author="Agent", state=state
    ).pk


def next_attempts(dossier):
    return set(
        OutgoingEvent.objects.filter(dossier=dossier, state="pending").values_list(
            "next_attempt_at", flat=True
        )
    )


@pytest.mark.django_db(transaction=True)
def test_retry_schedules_become_next_attempt_at_and_back():
    backed_off, waiting, both, plain = (DossierFactory() for _ in range(4))
    for dossier in (backed_off, waiting, both, plain):
        pending(dossier)
    pending(both)
    sent = pending(backed_off, state="sent")
    try:
        migrate(BEFORE)
        now = timezone.now()
        later = now + timedelta(minutes=4)
        once(f"{RETRY}{backed_off.pk}", later)
        once(f"{WAIT}{waiting.pk}", now + timedelta(seconds=30))
        once(f"{RETRY}{both.pk}", now + timedelta(minutes=2))
        once(f"{WAIT}{both.pk}", now + timedelta(minutes=8))
        foreign = Schedule.objects.create(
            name=f"{RETRY}pas un dossier", func="x.y", schedule_type=Schedule.ONCE
        )

        migrate(AFTER)
        assert next_attempts(backed_off) == {later}
        assert next_attempts(waiting) == {now + timedelta(seconds=30)}
        # The earlier of the two: either sent the pushes, whatever the backoff.
        assert next_attempts(both) == {now + timedelta(minutes=2)}
        (plain_at,) = next_attempts(plain)
        assert now <= plain_at <= timezone.now()  # due at once
        # Columns named: later migrations add some that 0010's schema has not.
        sent_at = OutgoingEvent.objects.filter(pk=sent).values_list("next_attempt_at", flat=True)
        assert list(sent_at) == [None]
        # Ours are gone, the foreign one is left alone.
        assert list(Schedule.objects.filter(name__contains=", dossier ")) == [foreign]

        # Back: one retry Schedule per dossier still waiting, as the portal wrote them.
        migrate(BEFORE)
        retries = {
            s.name: (s.func, s.args, s.schedule_type, s.next_run)
            for s in Schedule.objects.filter(name__startswith=RETRY).exclude(pk=foreign.pk)
        }
        assert retries == {
            f"{RETRY}{backed_off.pk}": (
                "dossiers.tasks.send_outgoing",
                str(backed_off.pk),
                "O",
                later,
            ),
            f"{RETRY}{waiting.pk}": (
                "dossiers.tasks.send_outgoing",
                str(waiting.pk),
                "O",
                now + timedelta(seconds=30),
            ),
            f"{RETRY}{both.pk}": (
                "dossiers.tasks.send_outgoing",
                str(both.pk),
                "O",
                now + timedelta(minutes=2),
            ),
        }
        migrate(AFTER)
        assert next_attempts(backed_off) == {later}
        assert not Schedule.objects.filter(name__startswith=RETRY).exclude(pk=foreign.pk).exists()
    finally:
        migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_earlier_of_a_retry_and_a_wait_schedule():
    """Before 0010 both Schedules ran dossiers.tasks.send_outgoing, which sends whatever the
    backoff: the first to fire sent the pushes. A WAIT (an agent's action that found a sync
    running, due in 30 s) beside a RETRY backed off 15 min went out after 30 s. 0010 keeps the
    earlier of the two, as the old behaviour sent at the first."""
    dossier = DossierFactory()
    OutgoingEvent.objects.create(dossier=dossier, case_new_status="DONE", author="Agent")
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
        migrate_to_latest()
