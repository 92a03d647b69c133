"""Team work on the dossier page: take, hand over, release, notes; what the page and the
conversation show, and what never leaves the portal."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from dossiers.models import Dossier, DossierActivity
from hubee_portal.sandbox import services as sandbox
from tests.factories import DemarcheFactory, DossierFactory, agent_for
from tests.views.conftest import received_dossier

pytestmark = pytest.mark.django_db


def page_of(client, dossier) -> str:
    return html.unescape(client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode())


def post(client, name, dossier, **data):
    return client.post(reverse(f"dossiers:{name}", args=[dossier.pk]), data, follow=True)


@pytest.fixture
def pair(client):
    demarche = DemarcheFactory()
    dossier = DossierFactory(demarche=demarche)
    alice = agent_for(demarche, first_name="Alice", last_name="Martin")
    bob = agent_for(demarche, first_name="Bob", last_name="Durand")
    return dossier, alice, bob


def test_take_then_a_colleague_sees_it_taken(client, pair):
    dossier, alice, bob = pair
    client.force_login(alice)
    assert "Je m'en occupe" in page_of(client, dossier)
    shown = html.unescape(post(client, "take", dossier).content.decode())
    assert "Dossier pris en charge : vous en êtes le responsable." in shown
    assert "Pris en charge par Alice Martin" in shown  # in the conversation
    client.force_login(bob)
    text = page_of(client, dossier)
    assert "Alice Martin est responsable de ce dossier." in text
    assert "Je m'en occupe" not in text
    shown = html.unescape(post(client, "take", dossier).content.decode())
    assert "Erreur : Déjà pris par Alice Martin." in shown
    assert Dossier.objects.get(pk=dossier.pk).assigned_to == alice


def test_hand_over_only_to_an_agent_of_the_demarche(client, pair):
    dossier, alice, bob = pair
    outsider = agent_for(DemarcheFactory(), first_name="Oscar", last_name="Ailleurs")
    client.force_login(alice)
    text = page_of(client, dossier)
    assert "Bob Durand" in text and "Oscar Ailleurs" not in text
    shown = html.unescape(post(client, "assign", dossier, agent=outsider.pk).content.decode())
    assert "Choisissez l'agent" in shown
    shown = html.unescape(post(client, "assign", dossier, agent=bob.pk).content.decode())
    assert "Dossier confié à Bob Durand." in shown and "Confié à Bob Durand" in shown
    shown = html.unescape(post(client, "release", dossier).content.decode())
    assert "Le dossier est libéré" in shown
    assert list(DossierActivity.objects.values_list("kind", flat=True)) == ["assigned", "released"]


def test_a_user_who_does_not_see_the_dossier_cannot_touch_it(client, pair):
    dossier, _, _ = pair
    client.force_login(agent_for(DemarcheFactory()))
    for name in ("take", "assign", "release", "note"):
        assert post(client, name, dossier).status_code == 404
    assert not DossierActivity.objects.exists()


def test_a_note_is_shown_to_colleagues_and_never_reaches_hubee(portal, login):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    alice = agent_for(demarche, first_name="Alice", last_name="Martin")
    bob = agent_for(demarche, first_name="Bob", last_name="Durand")
    client = login(alice)
    note = "Rappeler la mairie annexe avant de clore."
    shown = html.unescape(post(client, "note", dossier, note=note).content.decode())
    assert "Note ajoutée" in shown
    client = login(bob)
    text = page_of(client, dossier)
    assert note in text and "Note interne (agents de la démarche" in text
    seen_by_hubee = repr(sandbox.case_as_hubee_sees_it(case))
    assert note not in seen_by_hubee
    export = b"".join(client.get(reverse("dossiers:export")).streaming_content).decode()
    assert note not in export
    shown = html.unescape(post(client, "note", dossier, note="  ").content.decode())
    assert "Erreur : Écrivez le texte de la note." in shown


def test_taking_charge_assigns_where_the_demarche_says_so(portal, login):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED", take_assigns=True)
    _, dossier = received_dossier(portal, demarche)
    alice = agent_for(demarche, first_name="Alice", last_name="Martin")
    client = login(alice)
    client.post(
        reverse("dossiers:action", args=[dossier.pk, "prendre-en-charge"]), {"confirm": "on"}
    )
    assert Dossier.objects.get(pk=dossier.pk).assigned_to == alice
    other = portal.demarche(
        "RecensementCitoyen", automatic_status="SI_RECEIVED", take_assigns=False
    )
    _, plain = received_dossier(portal, other)
    client = login(agent_for(other))
    client.post(reverse("dossiers:action", args=[plain.pk, "prendre-en-charge"]), {"confirm": "on"})
    assert Dossier.objects.get(pk=plain.pk).assigned_to is None


def test_a_hand_over_to_garbage_is_refused_not_a_crash(client, pair):
    dossier, alice, _ = pair
    client.force_login(alice)
    for value in ("abc", "", "1; DROP", "-3"):
        shown = html.unescape(post(client, "assign", dossier, agent=value).content.decode())
        assert "Choisissez l'agent" in shown
    assert Dossier.objects.get(pk=dossier.pk).assigned_to is None
