"""The dossier page names attachment types in words, sizes in French, technical details apart."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demarches.models import AttachmentTypeLabel
from tests.conftest import log_in
from tests.factories import DossierFactory, PieceJointeFactory, agent_for

pytestmark = pytest.mark.django_db

DETAILS = re.compile(r'<details class="tech">.*?</details>', re.S)


def page_of(client, dossier) -> str:
    log_in(client, agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_types_read_as_labels_with_the_raw_code_in_a_title(client):
    dossier = DossierFactory()
    PieceJointeFactory(dossier=dossier, attachment_type="10870-PDF")
    PieceJointeFactory(dossier=dossier, attachment_type="ji")
    PieceJointeFactory(dossier=dossier, attachment_type="XYZ-inconnu")
    page = page_of(client, dossier)
    assert (
        '<span title="Code HubEE : 10870-PDF">'
        "Notice individuelle de recensement (cerfa 10870, PDF)</span>" in page
    )
    assert '<span title="Code HubEE : ji">Pièce d&#x27;identité (type supposé)</span>' in page
    # Unknown: the raw code itself, so the agent still has something to quote.
    assert '<span title="Code HubEE : XYZ-inconnu">XYZ-inconnu</span>' in page


def test_the_code_is_also_in_the_disclosure_for_keyboard_and_screen_reader_users(client):
    dossier = DossierFactory()
    PieceJointeFactory(dossier=dossier, attachment_type="ji", file_name="identite.pdf")
    page = page_of(client, dossier)
    (block,) = DETAILS.findall(page)
    assert "<summary>Détails techniques" in block
    assert '<span class="visually-hidden"> de identite.pdf</span>' in block  # unique name
    assert "<dt>Code HubEE</dt><dd><code>ji</code></dd>" in block


def test_mime_type_and_digest_are_behind_the_disclosure_only(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, mime_type="application/vnd.oasis.opendocument.text")
    page = page_of(client, dossier)
    (block,) = DETAILS.findall(page)
    assert "<code>application/vnd.oasis.opendocument.text</code>" in block
    assert f"<code>{piece.sha256}</code>" in block
    outside = DETAILS.sub("", page)
    assert "opendocument" not in outside and piece.sha256[:12] not in outside
    assert "Vérifiée" in outside


def test_sizes_are_written_the_french_way(client):
    dossier = DossierFactory()
    PieceJointeFactory(dossier=dossier, content=b"x" * 1260)
    PieceJointeFactory(dossier=dossier, content=b"x" * 12)
    page = page_of(client, dossier)
    assert '<td class="num" data-label="Taille">1,2\u00a0Ko</td>' in page
    assert '<td class="num" data-label="Taille">12\u00a0octets</td>' in page
    # A size's unit, not the letters anywhere (a CSRF token may hold « KB »).
    assert not re.search(r"\d[\s\u00a0]?(Kio|KB)\b", page)


def test_an_edited_label_shows_at_the_next_visit(client):
    dossier = DossierFactory()
    PieceJointeFactory(dossier=dossier, attachment_type="jf")
    AttachmentTypeLabel.objects.filter(code="jf").update(
        label="Justificatif de situation familiale", assumed=False
    )
    page = page_of(client, dossier)
    assert '<span title="Code HubEE : jf">Justificatif de situation familiale</span>' in page


def _count(client, dossier) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_labels_cost_no_query_per_attachment(client):
    dossier = DossierFactory()
    PieceJointeFactory(dossier=dossier, attachment_type="ji")
    page_of(client, dossier)  # logs in; the first view creates the read mark
    one = _count(client, dossier)
    codes = ["10870-PDF", "10870-XML", "an", "anp", "cp", "flux-siv", "inconnu-1", "inconnu-2"]
    for code in codes * 3:
        PieceJointeFactory(dossier=dossier, attachment_type=code)
    many = _count(client, dossier)
    assert one == many
    # As before the labels: session, user, dossier, events, attachments (labels inside),
    # outbox, read mark, audit insert, whether the démarche is sensitive (second factor).
    assert many == 11  # as test_views_detail counts them
