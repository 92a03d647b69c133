"""Reply templates: placeholders replaced as plain text, refused when unknown, never on a
démarche without messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from demarches import reply_templates
from demarches.models import ReplyTemplate
from demarches.reply_templates import Purpose, expand, find_unknown, values
from tests.factories import DemarcheFactory

VALUES = values(
    first_name="Camille",
    last_name="Martin",
    number="DILA-AEC-0000000000042-01",
    demarche="Actes d'état civil",
    # 23:30 UTC on the 31st is already the 1st of February in Paris.
    deposited_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC),
)


# -- expand and find_unknown --------------------------------------------------------------------


def test_every_placeholder_is_replaced():
    text = "Bonjour {prenom} {nom}, votre demande {numero} ({demarche}) du {date_depot}."
    assert expand(text, VALUES) == (
        "Bonjour Camille Martin, votre demande DILA-AEC-0000000000042-01 "
        "(Actes d'état civil) du 01/02/2026."
    )


def test_a_placeholder_may_appear_several_times():
    assert expand("{nom} / {nom}", VALUES) == "Martin / Martin"


def test_a_value_holding_a_placeholder_is_not_expanded_again():
    tricky = values(
        first_name="{nom}",
        last_name="{prenom}",
        number="{numero}",
        demarche="{0} {__class__}",
        deposited_at=None,
    )
    assert expand("{prenom}|{nom}|{numero}|{demarche}|{date_depot}", tricky) == (
        "{nom}|{prenom}|{numero}|{0} {__class__}|"
    )


def test_no_format_syntax_is_interpreted():
    # str.format would fail on the lone brace or read attributes: here they stay text.
    text = "{ {prenom}!r} {nom.__class__} {0} 100 % {"
    assert expand(text, VALUES) == "{ Camille!r} {nom.__class__} {0} 100 % {"


def test_unknown_brace_groups_are_found_once_each_in_order():
    text = "{Prenom} {prenom} {date} {} {Prenom} {nom.upper}"
    assert find_unknown(text) == ["{Prenom}", "{date}", "{}", "{nom.upper}"]


def test_lone_braces_are_no_placeholder():
    assert find_unknown("Tarif { 3 € } … { ouvert ; fermé }") == ["{ 3 € }", "{ ouvert ; fermé }"]
    assert find_unknown("une accolade { seule, puis } l'autre }{") == ["{ seule, puis }"]
    assert find_unknown("{ ouverte seulement ; fermée seulement }") == [
        "{ ouverte seulement ; fermée seulement }"
    ]
    assert find_unknown("ouverte { seulement") == []
    assert find_unknown("}{") == []
    assert find_unknown("{nom} {{prenom}}") == []  # the inner group is a placeholder


def test_the_deposit_date_is_local_and_empty_when_unknown():
    assert reply_templates.deposit_date(datetime(2026, 7, 14, 22, 30, tzinfo=UTC)) == "15/07/2026"
    assert reply_templates.deposit_date(None) == ""


def test_length_problem_says_the_length_and_the_limit_in_french():
    assert reply_templates.length_problem("x" * 1000) is None
    problem = reply_templates.length_problem("x" * 1180)
    assert problem is not None
    assert problem.startswith("Le message fait 1\u00a0180 caractères : HubEE en accepte 1\u00a0000")


# -- the model ----------------------------------------------------------------------------------

needs_db = pytest.mark.django_db


def template(demarche=None, **kwargs) -> ReplyTemplate:
    kwargs.setdefault("name", "Acte envoyé")
    kwargs.setdefault("text", "Bonjour {prenom} {nom}, votre acte est envoyé.")
    return ReplyTemplate(
        demarche=demarche or DemarcheFactory(allows_messages=True),
        purpose=kwargs.pop("purpose", Purpose.MESSAGE),
        **kwargs,
    )


@needs_db
def test_a_valid_template_is_saved():
    item = template()
    item.full_clean()
    item.save()
    assert str(item) == "Acte envoyé"
    assert list(item.demarche.reply_templates.all()) == [item]


@needs_db
def test_an_unknown_placeholder_is_refused_naming_it_and_the_allowed_ones():
    item = template(text="Bonjour {Prenom} {nom}, le {date} …")
    with pytest.raises(ValidationError) as caught:
        item.full_clean()
    (message,) = caught.value.message_dict["text"]
    assert message.startswith("Variables inconnues : {Prenom}, {date}.")
    for token in ("{prenom}", "{nom}", "{numero}", "{demarche}", "{date_depot}"):
        assert token in message


@needs_db
def test_certdc_gets_no_template():
    certdc = DemarcheFactory(process_code="CERTDC", allows_messages=False)
    with pytest.raises(ValidationError) as caught:
        template(certdc).full_clean()
    assert caught.value.messages == [
        "Cette démarche n'autorise pas les messages à l'usager : pas de modèle de réponse."
    ]


@needs_db
def test_a_text_longer_than_hubee_accepts_is_refused():
    item = template(text="{prenom}" * 50 + "x" * 1001)
    with pytest.raises(ValidationError) as caught:
        item.full_clean()
    (message,) = caught.value.message_dict["text"]
    assert message.startswith("Le texte fait 1\u00a0001 caractères sans compter les variables")
    template(text="{demarche}" * 200 + "x" * 1000).full_clean()  # placeholders do not count


@needs_db
def test_a_name_is_unique_per_demarche():
    first = template()
    first.save()
    again = template(first.demarche)
    with pytest.raises(ValidationError) as caught:
        again.full_clean()
    assert "Cette démarche a déjà un modèle de réponse de ce nom." in str(caught.value)
    template(name="Acte envoyé").full_clean()  # another démarche: fine
    with pytest.raises(IntegrityError):
        again.save()


@needs_db
def test_templates_go_with_their_demarche_and_are_sorted_by_name():
    demarche = DemarcheFactory(allows_messages=True)
    for name in ("Refus", "Acte envoyé", "Pièce manquante"):
        template(demarche, name=name).save()
    assert list(demarche.reply_templates.values_list("name", flat=True)) == [
        "Acte envoyé",
        "Pièce manquante",
        "Refus",
    ]
    demarche.delete()
    assert not ReplyTemplate.objects.exists()
