"""Reply templates in the admin: the « Modèles de réponse » inline of a démarche, and their
own list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demarches.models import ReplyTemplate
from tests.demarches.test_admin_demarches import form_data
from tests.factories import DemarcheFactory

pytestmark = pytest.mark.django_db

PREFIX = "reply_templates"


def change_data(demarche, *templates: dict, initial: int = 0) -> dict:
    """The démarche's change form as posted by the page, with these inline forms."""
    data = form_data(
        download_folder=demarche.download_folder,
        client_id=demarche.client_id,
        client_secret="",
        name=demarche.name,
        process_code=demarche.process_code,
        allows_messages="on" if demarche.allows_messages else "",
    )
    if not demarche.allows_messages:
        data.pop("allows_messages")
    data["organisation"] = demarche.organisation.pk
    data["connection"] = demarche.connection.pk
    data.update(
        {
            f"{PREFIX}-TOTAL_FORMS": str(len(templates)),
            f"{PREFIX}-INITIAL_FORMS": str(initial),
            f"{PREFIX}-MIN_NUM_FORMS": "0",
            f"{PREFIX}-MAX_NUM_FORMS": "1000",
        }
    )
    for index, item in enumerate(templates):
        for key, value in item.items():
            data[f"{PREFIX}-{index}-{key}"] = value
    return data


def change_url(demarche) -> str:
    return reverse("admin:demarches_demarche_change", args=[demarche.pk])


def test_the_demarche_page_shows_the_inline_with_the_placeholders(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    html = admin_client.get(change_url(demarche)).content.decode()
    assert "Modèles de réponse" in html
    assert f'name="{PREFIX}-0-text"' in html  # one empty form: works without JavaScript
    for token in ("{prenom}", "{nom}", "{numero}", "{demarche}", "{date_depot}"):
        assert token in html


def test_the_inline_saves_a_template(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    data = change_data(
        demarche,
        {"name": "Pièce manquante", "purpose": "complement", "text": "Bonjour {prenom},"},
    )
    response = admin_client.post(change_url(demarche), data)
    assert response.status_code == 302, response.content.decode()
    saved = ReplyTemplate.objects.get()
    assert (saved.demarche, saved.name, saved.purpose, saved.text) == (
        demarche,
        "Pièce manquante",
        "complement",
        "Bonjour {prenom},",
    )


def test_the_inline_refuses_an_unknown_placeholder(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    data = change_data(
        demarche, {"name": "Acte", "purpose": "all", "text": "Bonjour {prénom} {nom},"}
    )
    response = admin_client.post(change_url(demarche), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Variable inconnue : {prénom}." in html
    assert "Variables possibles : {prenom}, {nom}, {numero}, {demarche}, {date_depot}." in html
    assert not ReplyTemplate.objects.exists()


def test_the_inline_refuses_a_template_when_messages_are_not_allowed(admin_client):
    demarche = DemarcheFactory(process_code="CERTDC", allows_messages=False)
    html = admin_client.get(change_url(demarche)).content.decode()
    assert f'name="{PREFIX}-0-text"' not in html  # no empty form offered
    data = change_data(demarche, {"name": "Acte", "purpose": "all", "text": "Bonjour."})
    response = admin_client.post(change_url(demarche), data)
    assert response.status_code == 200
    assert "pas de modèle de réponse" in response.content.decode()
    assert not ReplyTemplate.objects.exists()


def test_a_post_without_the_inline_leaves_the_templates_alone(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    kept = ReplyTemplate.objects.create(demarche=demarche, name="Acte", text="Bonjour.")
    data = change_data(demarche)
    for key in [k for k in data if k.startswith(PREFIX)]:
        del data[key]
    data["name"] = "Nouveau nom"
    response = admin_client.post(change_url(demarche), data)
    assert response.status_code == 302, response.content.decode()
    demarche.refresh_from_db()
    assert demarche.name == "Nouveau nom"
    assert list(ReplyTemplate.objects.all()) == [kept]


def test_the_inline_deletes_a_template(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    item = ReplyTemplate.objects.create(demarche=demarche, name="Acte", text="Bonjour.")
    data = change_data(
        demarche,
        {
            "id": str(item.pk),
            "demarche": str(demarche.pk),
            "name": item.name,
            "purpose": item.purpose,
            "text": item.text,
            "DELETE": "on",
        },
        initial=1,
    )
    response = admin_client.post(change_url(demarche), data)
    assert response.status_code == 302, response.content.decode()
    assert not ReplyTemplate.objects.exists()


def test_the_standalone_list_offers_only_demarches_with_messages(admin_client):
    with_messages = DemarcheFactory(name="État civil", allows_messages=True)
    DemarcheFactory(name="Décès", process_code="CERTDC", allows_messages=False)
    ReplyTemplate.objects.create(demarche=with_messages, name="Acte envoyé", text="Bonjour.")
    listing = admin_client.get(reverse("admin:demarches_replytemplate_changelist"))
    assert listing.status_code == 200
    assert "Acte envoyé" in listing.content.decode()
    add = admin_client.get(reverse("admin:demarches_replytemplate_add"))
    choices = [str(d) for d in add.context["adminform"].form.fields["demarche"].queryset]
    assert choices == [str(with_messages)]
    response = admin_client.post(
        reverse("admin:demarches_replytemplate_add"),
        {
            "demarche": with_messages.pk,
            "name": "Refus",
            "purpose": "refusal",
            "text": "Bonjour {prenom} {nom}, votre demande {numero} est refusée.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert ReplyTemplate.objects.filter(name="Refus", purpose="refusal").exists()


def test_turning_messages_off_asks_to_delete_the_templates_first(admin_client):
    demarche = DemarcheFactory(allows_messages=True)
    item = ReplyTemplate.objects.create(demarche=demarche, name="Acte", text="Bonjour.")
    demarche.allows_messages = False  # what the admin unticks
    kept = {
        "id": str(item.pk),
        "demarche": str(demarche.pk),
        "name": item.name,
        "purpose": item.purpose,
        "text": item.text,
    }
    response = admin_client.post(change_url(demarche), change_data(demarche, kept, initial=1))
    assert response.status_code == 200
    assert "pas de modèle de réponse" in response.content.decode()
    demarche.refresh_from_db()
    assert demarche.allows_messages
    demarche.allows_messages = False
    deleted = {**kept, "DELETE": "on"}
    response = admin_client.post(change_url(demarche), change_data(demarche, deleted, initial=1))
    assert response.status_code == 302, response.content.decode()
    demarche.refresh_from_db()
    assert not demarche.allows_messages
    assert not ReplyTemplate.objects.exists()
