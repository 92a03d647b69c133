"""XML attachments read as fields, with a parser that expands no entity and loads nothing."""

import pytest
from django.urls import reverse

from dossiers.models import AuditEntry
from tests.factories import DossierFactory, PieceJointeFactory, agent_for

pytestmark = pytest.mark.django_db

DEMANDE = """<?xml version="1.0" encoding="UTF-8"?>
<Demande xmlns="http://example.org/aec" version="2">
  <Demandeur>
    <Nom>Martin</Nom>
    <Prenom>Camille</Prenom>
  </Demandeur>
  <Acte type="naissance"><Date>2001-05-12</Date></Acte>
  <Enfant><Prenom>Léa</Prenom></Enfant>
  <Enfant><Prenom>Noé</Prenom></Enfant>
</Demande>
""".encode()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""


def xml_page(client, content, **kwargs):
    dossier = DossierFactory()
    piece = PieceJointeFactory(
        dossier=dossier,
        file_name="demande.xml",
        mime_type="application/xml",
        content=content,
        **kwargs,
    )
    client.force_login(agent_for(dossier.demarche))
    return client.get(reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk]))


def test_fields_and_values_are_listed(client):
    response = xml_page(client, DEMANDE)
    assert response.status_code == 200
    # Each value under the block it belongs to, as before: (block, label, value).
    rows, block = [], ""
    for row in response.context["rows"]:
        if row.group:
            block = row.label
        else:
            rows.append((block, row.label, row.value))
    assert ("Demande", "Version (attribut)", "2") in rows
    assert ("Demande › Demandeur", "Nom", "Martin") in rows
    assert ("Demande › Acte", "Type (attribut)", "naissance") in rows
    assert ("Demande › Acte", "Date", "12 mai 2001") in rows  # French dates
    # French labels (the element's name humanised), each child under its own block.
    assert ("Demande › Enfant n°1", "Prénom", "Léa") in rows
    assert ("Demande › Enfant n°2", "Prénom", "Noé") in rows
    assert AuditEntry.objects.filter(action="view_xml").count() == 1


def test_empty_fields_are_not_listed(client):
    response = xml_page(
        client, b"<Demande><Nom>Martin</Nom><Vide/><Bloc><Rien> </Rien></Bloc></Demande>"
    )
    labels = [row.label for row in response.context["rows"]]
    assert labels == ["Demande", "Nom"]


def test_entities_are_never_expanded(client):
    response = xml_page(client, BILLION_LAUGHS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "lollol" not in page
    assert "déclaration de type de document" in page


def test_external_entities_are_never_loaded(client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CONTENU-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'
    ).encode()
    page = xml_page(client, xxe).content.decode()
    assert "CONTENU-SECRET" not in page


def test_invalid_xml_is_explained(client):
    page = xml_page(client, b"<Demande><Nom>Martin</Demande>").content.decode()
    assert "incomplet ou mal formé" in page
    page = xml_page(client, b"ceci n'est pas du XML").content.decode()
    assert "pas un XML lisible" in page


def test_a_pdf_has_no_fields_page(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, file_name="a.pdf", mime_type="application/pdf")
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk]))
    assert response.status_code == 404


def test_a_big_file_is_read_up_to_the_limit_and_the_cut_is_said(client, monkeypatch):
    from dossiers.web.request import xmlparse

    monkeypatch.setattr(xmlparse, "MAX_BYTES", 150)
    response = xml_page(client, DEMANDE)
    page = response.content.decode()
    assert "dépasse" in page and "Seule la partie lue est montrée" in page
    assert ("Nom", "Martin") in [(row.label, row.value) for row in response.context["rows"]]


def test_elements_are_bounded_and_the_cut_is_said(client, monkeypatch):
    from dossiers.web.request import xmlparse

    # Attributes count like elements: Demande, its version, Demandeur and Nom make 4.
    monkeypatch.setattr(xmlparse, "MAX_ELEMENTS", 4)
    response = xml_page(client, DEMANDE)
    assert [row.label for row in response.context["rows"] if not row.group] == [
        "Version (attribut)",
        "Nom",
    ]
    assert "plus de 4 éléments et attributs" in response.content.decode()
