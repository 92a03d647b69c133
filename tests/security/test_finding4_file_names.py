"""Finding 4: a file name's control and bidi characters are shown, never obeyed (U+202E makes
« facture‮fdp.exe » read « factureexe.pdf »), and the real extension, the stored file's, is
said apart."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.models import PieceJointe
from tests.conftest import log_in
from tests.factories import PieceJointeFactory, agent_for, staff_with
from tests.views.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

# Each one changes how a name reads without being seen.
HIDDEN = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u200e",
    "\u200f",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
]


def render_name(piece) -> str:
    from django.template import Context, Template

    return Template("{% load portal %}{{ piece|piece_name }}").render(Context({"piece": piece}))


@pytest.mark.parametrize("char", HIDDEN)
def test_every_hidden_character_is_made_visible(char):
    piece = PieceJointe(file_name=f"evil{char}gpj.exe", stored_path="D-1/evilgpj.exe")
    shown = render_name(piece)
    assert char not in shown
    assert f"evil[U+{ord(char):04X}]gpj.exe" in shown
    assert "(fichier .exe" in shown


def test_an_ordinary_name_is_shown_as_it_is():
    assert render_name(PieceJointe(file_name="Acte n°2 (copie).pdf", stored_path="D/a.pdf")) == (
        "Acte n°2 (copie).pdf"
    )
    # A name whose extension is not the stored file's says the real one.
    misleading = PieceJointe(file_name="photo.jpg", stored_path="D/photo.jpg.exe")
    assert render_name(misleading) == "photo.jpg (fichier .exe, enregistré sous « photo.jpg.exe »)"


def test_hostile_names_from_hubee_on_every_page(portal, client):
    demarche = portal.demarche()
    files = [
        ("facture\u202efdp.exe", "t", "application/pdf", pdf_bytes("bidi")),
        ("note\u2067\u200f.pdf", "t", "application/pdf", pdf_bytes("isolate")),
        ("champs\u202e.xml", "t", "application/xml", b"<Demande><nom>A</nom></Demande>"),
    ]
    portal.deposit(demarche, files=files)
    portal.sync(demarche)
    bidi = PieceJointe.objects.get(file_name="facture\u202efdp.exe")
    assert bidi.stored_path.endswith("/facturefdp.exe")
    xml = PieceJointe.objects.get(file_name="champs\u202e.xml")
    dossier = bidi.dossier

    log_in(client, agent_for(demarche))
    pages = {
        "detail": client.get(reverse("dossiers:detail", args=[dossier.pk])),
        "preview": client.get(reverse("dossiers:preview", args=[dossier.pk, bidi.pk])),
        "xml": client.get(reverse("dossiers:piece-fields", args=[dossier.pk, xml.pk])),
    }
    log_in(
        client,
        staff_with(
            "dossiers.view_dossier", "dossiers.view_piecejointe", "dossiers.view_all_dossiers"
        ),
    )
    pages["admin"] = client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
    for name, response in pages.items():
        page = response.content.decode()
        assert response.status_code in (200, 404), name
        for char in ("\u202e", "\u2067", "\u200f"):
            assert char not in page, name
    detail = pages["detail"].content.decode()
    assert "facture[U+202E]fdp.exe (fichier .exe, enregistré sous « facturefdp.exe »)" in detail
    assert "note[U+2067][U+200F].pdf" in detail
    assert "champs[U+202E].xml" in pages["xml"].content.decode()
    assert "facture[U+202E]fdp.exe" in pages["preview"].content.decode()
    assert "facture[U+202E]fdp.exe" in pages["admin"].content.decode()


def test_a_factory_piece_shows_its_name(client):
    piece = PieceJointeFactory(file_name="acte.pdf")
    log_in(client, agent_for(piece.dossier.demarche))
    page = client.get(reverse("dossiers:detail", args=[piece.dossier.pk])).content.decode()
    assert ">acte.pdf</a>" in page
