"""The running counts kept by the database's triggers match the dossiers, whatever moves them."""

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Dossier, DossierTally
from dossiers.records import tallies
from tests.factories import DemarcheFactory, DossierFactory, UserFactory, agent_for

pytestmark = pytest.mark.django_db


def real_counts(**filters) -> dict:
    rows = (
        Dossier.objects.filter(purged_at__isnull=True, **filters)
        .order_by()
        .values_list("demarche_id", "status")
        .annotate(n=Count("*"))
    )
    return {(demarche, status): n for demarche, status, n in rows}


def test_every_kind_of_move_is_counted():
    first, second = DemarcheFactory(), DemarcheFactory()
    agent = UserFactory()
    dossiers = [DossierFactory(demarche=first) for _ in range(5)]
    DossierFactory(demarche=second, status="IN_PROGRESS")
    assert tallies.differences() == {}

    # save() of one field, of every field, an UPDATE of many rows, a purge, a deletion.
    dossiers[0].status = "DONE"
    dossiers[0].save(update_fields=["status"])
    dossiers[1].assigned_to = agent
    dossiers[1].save()
    dossiers[2].save()  # nothing moves: no row either
    Dossier.objects.filter(pk__in=[dossiers[3].pk, dossiers[4].pk]).update(status="REFUSED")
    Dossier.objects.filter(pk=dossiers[3].pk).update(purged_at=timezone.now())
    dossiers[4].delete()
    Dossier.objects.bulk_create(
        [DossierFactory.build(demarche=second, status="CLOSED") for _ in range(3)]
    )
    assert tallies.differences() == {}
    assert tallies.counts() == real_counts()
    assert tallies.counts(assigned=agent.pk) == real_counts(assigned_to=agent)
    assert tallies.counts(assigned=None) == real_counts(assigned_to__isnull=True)
    assert tallies.counts(statuses=["CLOSED"]) == {(second.pk, "CLOSED"): 3}

    # Cells that fall to zero leave nothing once folded.
    Dossier.objects.filter(demarche=second).delete()
    assert tallies.counts() == real_counts()
    rows = DossierTally.objects.count()
    assert tallies.compact() == rows
    assert DossierTally.objects.count() == len(
        Dossier.objects.filter(purged_at__isnull=True)
        .values_list("demarche_id", "status", "assigned_to_id")
        .distinct()
    )
    assert tallies.differences() == {}
    assert tallies.compact() == 0  # already one row per cell


def test_restricted_to_the_agents_demarches():
    mine, other = DemarcheFactory(), DemarcheFactory()
    agent = agent_for(mine)
    DossierFactory.create_batch(2, demarche=mine)
    DossierFactory(demarche=other)
    from dossiers.records.access import demarches_for

    assert tallies.counts(demarches_for(agent)) == {(mine.pk, "SI_RECEIVED"): 2}


def test_repair_rebuilds_wrong_counts(caplog):
    demarche = DemarcheFactory()
    DossierFactory.create_batch(3, demarche=demarche)
    DossierTally.objects.create(demarche_id=demarche.pk, status="DONE", n=7)  # a lost update
    assert tallies.repair() == 1
    assert "Comptes de dossiers faux" in caplog.text
    assert tallies.differences() == {}
    assert tallies.repair() == 0


def test_list_counts_from_the_running_counts_match_the_dossiers(client):
    demarche = DemarcheFactory()
    agent = agent_for(demarche)
    DossierFactory.create_batch(3, demarche=demarche)
    DossierFactory.create_batch(2, demarche=demarche, status="DONE", assigned_to=agent)
    client.force_login(agent)
    for query, total in (({}, 5), ({"attribue": "moi"}, 2), ({"status": "DONE"}, 2)):
        response = client.get(reverse("dossiers:list"), query)
        assert response.context["total"] == total, query
    # A stale cell would show: the list reads the running counts, not the dossiers.
    DossierTally.objects.create(demarche_id=demarche.pk, status="DONE", n=1)
    assert client.get(reverse("dossiers:list")).context["total"] == 6
    # A search counts the dossiers themselves.
    assert client.get(reverse("dossiers:list"), {"q": "zzz"}).context["total"] == 0


def test_triggers_exist_on_this_database():
    names = Counter()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names.update(name for (name,) in cursor.fetchall() if name.startswith("dossier_tally"))
    assert names
