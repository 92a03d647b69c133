"""Who is in charge of a dossier: one agent at most, taken by a conditional UPDATE, handed,
released by hand and whenever the agent loses the dossier's démarche; notes never leave."""

from __future__ import annotations

import pytest

from dossiers.models import AuditEntry, Dossier, DossierActivity
from dossiers.operations import retention
from dossiers.records import assignment
from dossiers.records.assignment import AssignmentRefused
from tests.factories import DemarcheFactory, DossierFactory, UserFactory, agent_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    demarche = DemarcheFactory()
    dossier = DossierFactory(demarche=demarche)
    alice = agent_for(demarche, first_name="Alice", last_name="Martin")
    bob = agent_for(demarche, first_name="Bob", last_name="Durand")
    return dossier, alice, bob


def holder(dossier):
    return Dossier.objects.values_list("assigned_to", flat=True).get(pk=dossier.pk)


def kinds(dossier):
    return list(DossierActivity.objects.filter(dossier=dossier).values_list("kind", flat=True))


def test_the_first_agent_to_take_it_keeps_it(team):
    dossier, alice, bob = team
    stale = Dossier.objects.get(pk=dossier.pk)  # Bob's page, read before Alice took it
    assert assignment.take(dossier, alice) is True
    with pytest.raises(AssignmentRefused, match="^Déjà pris par Alice Martin.$"):
        assignment.take(stale, bob)
    assert holder(dossier) == alice.pk
    assert assignment.take(dossier, alice) is False  # already hers: nothing recorded twice
    assert kinds(dossier) == ["taken"]
    entry = AuditEntry.objects.get(action="take")
    assert (entry.user, entry.dossier, entry.object_ref) == (alice, dossier, f"agent {alice.pk}")


def test_only_agents_of_the_demarche_take_or_receive_it(team):
    dossier, alice, _ = team
    outsider = agent_for(DemarcheFactory())
    inactive = agent_for(dossier.demarche, is_active=False)
    with pytest.raises(AssignmentRefused, match="habilités sur cette démarche"):
        assignment.take(dossier, outsider)
    for someone in (outsider, inactive):
        with pytest.raises(AssignmentRefused, match="agent actif habilité"):
            assignment.assign(dossier, someone, by=alice)
    assert holder(dossier) is None
    assert list(assignment.candidates(dossier)) == [alice, team[2]]


def test_handed_then_released_with_its_history_and_audit(team):
    dossier, alice, bob = team
    assignment.take(dossier, alice)
    assignment.assign(dossier, bob, by=alice)
    assert holder(dossier) == bob.pk
    assert assignment.release(dossier, by=bob) is True
    assert assignment.release(dossier, by=bob) is False
    assert holder(dossier) is None
    assert kinds(dossier) == ["taken", "assigned", "released"]
    handed = DossierActivity.objects.get(kind="assigned")
    assert (handed.by_name, handed.to_name) == ("Alice Martin", "Bob Durand")
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("pk")) == [
        "take",
        "assign",
        "release",
    ]


def lose_by(path, dossier, agent):
    demarche = dossier.demarche
    if path == "demarche.agents.remove":
        demarche.agents.remove(agent)
    elif path == "demarche.agents.clear":
        demarche.agents.clear()
    elif path == "demarche.agents.set":
        demarche.agents.set([])
    elif path == "user.demarches.remove":
        agent.demarches.remove(demarche)
    elif path == "user.demarches.clear":
        agent.demarches.clear()
    elif path == "user.demarches.set":
        agent.demarches.set([])
    elif path == "deactivated":
        agent.is_active = False
        agent.save()
    elif path == "deleted":
        agent.delete()


PATHS = [
    "demarche.agents.remove",
    "demarche.agents.clear",
    "demarche.agents.set",
    "user.demarches.remove",
    "user.demarches.clear",
    "user.demarches.set",
    "deactivated",
    "deleted",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_dossier_is_released_when_its_agent_loses_it_by_any_path(team, path):
    dossier, alice, bob = team
    other = DossierFactory(demarche=dossier.demarche)
    elsewhere = DossierFactory()  # another démarche of Alice's, kept unless she is gone
    elsewhere.demarche.agents.add(alice)
    assignment.take(dossier, alice)
    assignment.take(other, bob)
    assignment.take(elsewhere, alice)
    lose_by(path, dossier, alice)
    assert holder(dossier) is None
    # clear() and set([]) on the démarche take Bob off too; otherwise his dossier stays his.
    everyone_left = path in ("demarche.agents.clear", "demarche.agents.set")
    assert (holder(other) is None) is everyone_left
    # Alice keeps her other démarche unless she lost her account or all her démarches.
    all_hers = path in ("deactivated", "deleted", "user.demarches.clear", "user.demarches.set")
    assert (holder(elsewhere) is None) is all_hers
    released = DossierActivity.objects.get(dossier=dossier, kind="released_auto")
    assert released.text and released.to_name == "Alice Martin"


def test_adding_agents_releases_nothing(team):
    dossier, alice, _ = team
    assignment.take(dossier, alice)
    dossier.demarche.agents.add(UserFactory())
    alice.save()  # an active agent saved: nothing happens
    assert holder(dossier) == alice.pk


def test_notes_stay_on_the_portal_and_the_purge_erases_them(team, settings, tmp_path):
    dossier, alice, _ = team
    note = assignment.add_note(dossier, alice, "  Appeler Mme Martin au 06 12 34 56 78.  ")
    assert note.text == "Appeler Mme Martin au 06 12 34 56 78."
    assert AuditEntry.objects.filter(action="note", dossier=dossier).exists()
    with pytest.raises(AssignmentRefused, match="Écrivez"):
        assignment.add_note(dossier, alice, "   ")
    with pytest.raises(AssignmentRefused, match="2001 caractères"):
        assignment.add_note(dossier, alice, "x" * 2001)
    assignment.take(dossier, alice)
    assert retention._purge_one(Dossier.objects.get(pk=dossier.pk), [], dossier.updated_at)
    assert holder(dossier) is None
    assert list(DossierActivity.objects.filter(dossier=dossier).values_list("text", flat=True)) == [
        "",
        "",
    ]


def test_handing_over_never_overrides_a_colleague_unseen(team):
    dossier, alice, bob = team
    shown = None  # Alice's page showed nobody in charge
    assignment.take(dossier, bob)  # meanwhile
    with pytest.raises(AssignmentRefused, match="^Entre-temps, Bob Durand a pris ce dossier"):
        assignment.assign(dossier, alice, by=alice, shown=shown)
    assert holder(dossier) == bob.pk
    assignment.assign(dossier, alice, by=alice, shown=bob.pk)  # seen: handed on purpose
    assert holder(dossier) == alice.pk


def test_a_holder_deactivated_without_signal_no_longer_blocks_the_dossier(team):
    dossier, alice, bob = team
    assignment.take(dossier, alice)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)  # no post_save
    assert assignment.take(dossier, bob) is True
    assert holder(dossier) == bob.pk


def test_a_note_counts_line_breaks_as_the_browser_does(team):
    dossier, alice, _ = team
    text = ("x" * 99 + "\r\n") * 20  # 2,000 characters in the browser, 2,020 posted
    note = assignment.add_note(dossier, alice, text)
    assert len(note.text) == 1999 and "\r" not in note.text
