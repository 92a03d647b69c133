"""Reply templates in the message, complement and refusal forms: « Insérer le modèle » fills
the message without JavaScript and sends nothing; HubEE's length limit is checked in French."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demarches.models import ReplyTemplate
from dossiers.models import OutgoingEvent
from tests.factories import DemarcheFactory, DossierFactory, agent_for

pytestmark = pytest.mark.django_db

ALL_RULES = {"allows_messages": True, "allows_add_awaiting": True, "allows_document_return": True}
NBSP = "\u00a0"


def action_url(dossier, slug):
    return reverse("dossiers:action", args=[dossier.pk, slug])


def make_dossier(**demarche_kwargs):
    demarche = DemarcheFactory(**{**ALL_RULES, **demarche_kwargs})
    return DossierFactory(
        demarche=demarche,
        status="IN_PROGRESS",
        external_id="DILA-AEC-0000000000042-01",
        applicant_first_name="Camille",
        applicant_last_name="Martin",
        hubee_created_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
    )


def template(demarche, name="Acte envoyé", purpose="all", text=None):
    return ReplyTemplate.objects.create(
        demarche=demarche,
        name=name,
        purpose=purpose,
        text=text or "Bonjour {prenom} {nom}, votre demande {numero} du {date_depot} ({demarche}).",
    )


@pytest.fixture
def dossier(client):
    dossier = make_dossier(name="Actes d'état civil")
    client.force_login(agent_for(dossier.demarche))
    return dossier


def insert(client, dossier, slug, chosen, message="", **extra):
    data = {"reply_template": str(chosen), "message": message, "insert_template": "1", **extra}
    return client.post(action_url(dossier, slug), data)


def textarea(response) -> str:
    return response.context["form"]["message"].value()


# -- what is offered ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "offered"),
    [
        ("message", ["Pour tout", "Un message"]),
        ("demander-complement", ["Pour tout", "Un complément"]),
        ("refuser", ["Pour tout", "Un refus"]),
    ],
)
def test_each_form_offers_the_templates_of_its_purpose(client, dossier, slug, offered):
    for name, purpose in (
        ("Pour tout", "all"),
        ("Un message", "message"),
        ("Un complément", "complement"),
        ("Un refus", "refusal"),
    ):
        template(dossier.demarche, name, purpose)
    template(DemarcheFactory(**ALL_RULES), "D'une autre démarche")
    response = client.get(action_url(dossier, slug))
    choices = [label for value, label in response.context["form"].fields["reply_template"].choices]
    assert choices == ["— Choisir un modèle —", *offered]
    page = response.content.decode()
    assert '<label for="id_' in page and ">Modèle de réponse</label>" in page
    assert 'name="insert_template"' in page and "formnovalidate" in page
    assert "Insérer le modèle" in page
    # The form's default button (Enter in a field) is a plain submit, before the insertion.
    assert page.index('class="default-submit" hidden>') < page.index("insert_template")


def test_done_offers_the_templates_for_every_message(client, dossier):
    template(dossier.demarche, "Pour tout", "all")
    template(dossier.demarche, "Refus", "refusal")
    response = client.get(action_url(dossier, "traiter"))
    choices = [label for value, label in response.context["form"].fields["reply_template"].choices]
    assert choices == ["— Choisir un modèle —", "Pour tout"]


@pytest.mark.parametrize("slug", ["prendre-en-charge", "renvoyer-documents"])
def test_other_actions_offer_no_template(client, dossier, slug):
    template(dossier.demarche)
    page = client.get(action_url(dossier, slug)).content.decode()
    assert "Modèle de réponse" not in page and "insert_template" not in page


def test_no_select_without_templates(client, dossier):
    page = client.get(action_url(dossier, "message")).content.decode()
    assert "Modèle de réponse" not in page


def test_a_demarche_without_messages_offers_no_template(client):
    # Saved behind the model's back (the admin refuses it): still never offered.
    dossier = make_dossier(allows_messages=False)
    client.force_login(agent_for(dossier.demarche))
    template(dossier.demarche)
    page = client.get(action_url(dossier, "refuser")).content.decode()
    assert "Modèle de réponse" not in page


def test_the_dossier_page_offers_templates_in_its_panels(client, dossier):
    template(dossier.demarche, "Un refus", "refusal")
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert page.count(">Modèle de réponse</label>") == 1
    assert 'id="id_refuser_reply_template"' in page


# -- inserting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["message", "demander-complement", "refuser"])
def test_insert_fills_the_message_and_sends_nothing(client, dossier, slug):
    chosen = template(dossier.demarche)
    response = insert(client, dossier, slug, chosen.pk, message="Ancien texte")
    assert response.status_code == 200
    expected = (
        "Bonjour Camille Martin, votre demande DILA-AEC-0000000000042-01 du 04/03/2026 "
        "(Actes d'état civil)."
    )
    assert textarea(response) == expected
    page = unescape(response.content.decode())
    assert f"{expected}</textarea>" in page
    assert "Le modèle « Acte envoyé » est inséré dans le message" in page
    assert "Cochez la case" not in page and 'role="alert"' not in page
    assert response.context["form"]["reply_template"].value() == str(chosen.pk)
    # Still marked required as the agent will send it; the text to read over has the focus.
    assert '<textarea name="message" cols="60" rows="5" maxlength="1000" autofocus required' in page
    assert '<input type="checkbox" name="confirm" required' in page
    assert not OutgoingEvent.objects.exists()


def test_insert_ignores_a_ticked_confirmation(client, dossier):
    chosen = template(dossier.demarche)
    response = insert(client, dossier, "message", chosen.pk, confirm="on")
    assert response.status_code == 200
    assert not OutgoingEvent.objects.exists()


def test_a_template_of_another_demarche_is_refused(client, dossier):
    template(dossier.demarche)
    other = template(DemarcheFactory(**ALL_RULES), text="Secret d'une autre commune")
    response = insert(client, dossier, "message", other.pk, message="Mon texte")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ce modèle n&#x27;existe pas pour cette démarche" in page
    assert "Secret d" not in page
    assert textarea(response) == "Mon texte"
    assert not OutgoingEvent.objects.exists()


def test_a_template_of_another_purpose_is_refused(client, dossier):
    refusal = template(dossier.demarche, "Un refus", "refusal")
    response = insert(client, dossier, "message", refusal.pk)
    assert response.status_code == 400
    assert not OutgoingEvent.objects.exists()


def test_insert_never_sends_even_without_templates(client, dossier):
    response = client.post(
        action_url(dossier, "message"),
        {"message": "Bonjour", "confirm": "on", "insert_template": "1"},
    )
    assert response.status_code == 400
    assert "Aucun modèle de réponse n&#x27;est proposé" in response.content.decode()
    assert not OutgoingEvent.objects.exists()


def test_insert_without_a_choice_says_so(client, dossier):
    template(dossier.demarche)
    response = insert(client, dossier, "message", "")
    assert response.status_code == 400
    assert "Choisissez un modèle de réponse dans la liste." in response.content.decode()
    assert not OutgoingEvent.objects.exists()


def test_a_too_long_expansion_is_shown_with_its_length_and_queues_nothing(client):
    dossier = make_dossier(name="D" * 250)
    client.force_login(agent_for(dossier.demarche))
    # 4 × 250 + 180 = 1 180 characters once the démarche's name is in.
    chosen = template(dossier.demarche, text="{demarche}" * 4 + "x" * 180)
    response = insert(client, dossier, "message", chosen.pk)
    assert response.status_code == 400
    assert len(textarea(response)) == 1180  # shown, to be shortened
    (error,) = response.context["form"].errors["message"]
    assert error.startswith(f"Le message fait 1{NBSP}180 caractères : HubEE en accepte 1{NBSP}000")
    assert 'role="alert"' in response.content.decode()
    assert not OutgoingEvent.objects.exists()


def test_the_inserted_text_is_then_sent_as_is(client, dossier):
    chosen = template(dossier.demarche, text="Bonjour {prenom}, votre acte est envoyé.")
    text = textarea(insert(client, dossier, "message", chosen.pk))
    response = client.post(
        action_url(dossier, "message"),
        {"reply_template": str(chosen.pk), "message": text, "confirm": "on"},
    )
    assert response.status_code == 302
    assert OutgoingEvent.objects.get().message == "Bonjour Camille, votre acte est envoyé."


# -- the normal submit --------------------------------------------------------------------------


def test_a_too_long_message_is_refused_in_french(client, dossier):
    response = client.post(action_url(dossier, "message"), {"message": "é" * 1180, "confirm": "on"})
    assert response.status_code == 400
    (error,) = response.context["form"].errors["message"]
    assert error == (
        f"Le message fait 1{NBSP}180 caractères : HubEE en accepte 1{NBSP}000 au plus. "
        "Raccourcissez-le."
    )
    assert not OutgoingEvent.objects.exists()


def test_line_breaks_count_once_as_the_browser_counts_them(client, dossier):
    message = ("a" * 99 + "\r\n") * 10  # 1 000 characters for the browser, 1 010 posted
    response = client.post(action_url(dossier, "message"), {"message": message, "confirm": "on"})
    assert response.status_code == 302
    assert len(OutgoingEvent.objects.get().message) == 999  # the last line break stripped


def test_the_textarea_carries_the_limit(client, dossier):
    page = client.get(action_url(dossier, "message")).content.decode()
    assert 'maxlength="1000"' in page


def test_a_chosen_template_is_not_sent_without_its_text(client, dossier):
    chosen = template(dossier.demarche)
    response = client.post(
        action_url(dossier, "refuser"), {"reply_template": str(chosen.pk), "confirm": "on"}
    )
    assert response.status_code == 400
    assert "cliquez sur « Insérer le modèle »" in response.content.decode()
    assert not OutgoingEvent.objects.exists()


def test_the_confirmation_is_required_in_french_with_a_template(client, dossier):
    chosen = template(dossier.demarche)
    response = client.post(
        action_url(dossier, "refuser"),
        {"reply_template": str(chosen.pk), "message": "Votre demande est refusée."},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["confirm"] == [
        "Cochez la case de confirmation pour continuer."
    ]
    assert not OutgoingEvent.objects.exists()


def test_action_forms_are_checked_by_the_server_only(client, dossier):
    page = client.get(action_url(dossier, "refuser")).content.decode()
    assert " novalidate" in page
    assert "(obligatoire)</label>" in page
    assert ">Refuser la demande</button>" in page


def test_templates_cost_one_query_however_many_forms_offer_them(
    client, dossier, django_assert_max_num_queries, django_assert_num_queries
):
    detail = reverse("dossiers:detail", args=[dossier.pk])
    client.get(detail)  # the first view records it: not what is measured
    with CaptureQueriesContext(connection) as without:
        client.get(detail)
    for name, purpose in (("Pour tout", "all"), ("Refus", "refusal"), ("Pièce", "complement")):
        template(dossier.demarche, name, purpose)
    # Four panels (complement, done, refusal, message) offer templates: one query for all.
    with django_assert_num_queries(len(without)) as measured:
        page = client.get(detail).content.decode()
    reads = [q for q in measured.captured_queries if "demarches_replytemplate" in q["sql"]]
    assert len(reads) == 1
    assert page.count(">Modèle de réponse</label>") == 4
    with django_assert_max_num_queries(12):
        assert client.get(action_url(dossier, "refuser")).status_code == 200
