"""The preview page and its images: same access rules and 404s as the download, audited like
it, images re-encoded and served inline with nosniff, « Aperçu indisponible » never a 500."""

from __future__ import annotations

import io
import random

import pytest
from django.urls import reverse
from PIL import Image

from dossiers.models import AuditEntry
from hubee_portal.sandbox.content import identity_scan, make_pdf
from tests.factories import DemarcheFactory, DossierFactory, PieceJointeFactory, agent_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def pdf(lines: int = 120) -> bytes:
    return make_pdf("Acte de naissance", [f"Ligne {n}" for n in range(lines)])


def preview_url(piece):
    return reverse("dossiers:preview", args=[piece.dossier_id, piece.pk])


def image_url(piece, number=1):
    return reverse("dossiers:preview-image", args=[piece.dossier_id, piece.pk, number])


def test_the_dossier_page_links_to_previews_of_pdfs_and_scans_only(client):
    dossier = DossierFactory()
    acte = PieceJointeFactory(dossier=dossier, file_name="acte.pdf", content=pdf())
    scan = PieceJointeFactory(
        dossier=dossier,
        file_name="scan.jpg",
        mime_type="image/jpeg",
        content=identity_scan(random.Random(1)),
    )
    svg = PieceJointeFactory(
        dossier=dossier, file_name="logo.svg", mime_type="image/svg+xml", content=b"<svg/>"
    )
    xml = PieceJointeFactory(
        dossier=dossier, file_name="d.xml", mime_type="application/xml", content=b"<a/>"
    )
    client.force_login(agent_for(dossier.demarche))
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert preview_url(acte) in page and preview_url(scan) in page
    assert preview_url(svg) not in page and preview_url(xml) not in page
    assert 'Aperçu<span class="visually-hidden"> de acte.pdf</span>' in page


def test_an_agent_previews_each_page_of_a_pdf(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, file_name="acte é.pdf", content=pdf())
    client.force_login(agent_for(dossier.demarche))
    response = client.get(preview_url(piece))
    assert response.status_code == 200
    page = response.content.decode()
    total = response.context["preview"].total
    assert total > 1
    assert "<title>Aperçu de acte é.pdf — dossier" in page
    for number in range(1, total + 1):
        assert image_url(piece, number) in page
        assert f'alt="Page {number} sur {total} de acte é.pdf"' in page
    assert reverse("dossiers:download", args=[dossier.pk, piece.pk]) in page
    entry = AuditEntry.objects.get(action="preview")
    assert entry.object_ref == f"pièce jointe {piece.pk}"
    assert entry.dossier_id == dossier.pk
    assert entry.get_action_display() == "Aperçu d'une pièce"

    image = client.get(image_url(piece, 2))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Disposition"] == "inline"
    assert image["Cache-Control"].startswith("private")
    assert "sandbox" in image["Content-Security-Policy"]
    body = b"".join(image.streaming_content)
    assert Image.open(io.BytesIO(body)).format == "PNG"
    assert client.get(image_url(piece, total + 1)).status_code == 404
    assert client.get(image_url(piece, 0)).status_code == 404


def test_a_scan_is_shown_re_encoded_never_as_its_raw_bytes(client):
    dossier = DossierFactory()
    raw = identity_scan(random.Random(2))
    piece = PieceJointeFactory(
        dossier=dossier, file_name="scan.jpg", mime_type="image/jpeg", content=raw
    )
    client.force_login(agent_for(dossier.demarche))
    assert 'alt="Page 1 sur 1 de scan.jpg"' in client.get(preview_url(piece)).content.decode()
    image = client.get(image_url(piece))
    assert image["Content-Type"] == "image/jpeg"
    body = b"".join(image.streaming_content)
    assert body != raw
    assert Image.open(io.BytesIO(body)).size == (512, 384)


def test_a_broken_pdf_says_preview_unavailable_and_offers_the_download(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, content=b"%PDF-1.7\n<html>pas un PDF</html>")
    client.force_login(agent_for(dossier.demarche))
    response = client.get(preview_url(piece))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aperçu indisponible" in page and "Vous pouvez toujours le télécharger" in page
    assert reverse("dossiers:download", args=[dossier.pk, piece.pk]) in page
    assert "<img" not in page.split("<main", 1)[-1]
    assert client.get(image_url(piece)).status_code == 404
    assert AuditEntry.objects.filter(action="preview").count() == 1


def test_other_types_get_no_preview(client):
    dossier = DossierFactory()
    svg = PieceJointeFactory(
        dossier=dossier,
        file_name="image.svg",
        mime_type="image/svg+xml",
        content=b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    )
    client.force_login(agent_for(dossier.demarche))
    response = client.get(preview_url(svg))
    assert response.status_code == 404
    assert "Aucun aperçu pour ce type de fichier" in response.content.decode()
    assert client.get(image_url(svg)).status_code == 404
    assert not AuditEntry.objects.filter(action="preview").exists()


def test_previews_follow_the_download_s_access_rules(client):
    other = DemarcheFactory()
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, content=pdf())
    for url in (preview_url(piece), image_url(piece)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    client.force_login(agent_for(other))  # habilitated on another démarche only
    for url in (preview_url(piece), image_url(piece)):
        assert client.get(url).status_code == 404, url
    wrong_dossier = reverse("dossiers:preview", args=[DossierFactory().pk, piece.pk])
    client.force_login(agent_for(dossier.demarche))
    assert client.get(wrong_dossier).status_code == 404
    pending = PieceJointeFactory(dossier=dossier, state="pending")
    assert client.get(preview_url(pending)).status_code == 404
    gone = PieceJointeFactory(dossier=dossier, content=pdf())
    gone.absolute_path.unlink()
    assert client.get(preview_url(gone)).status_code == 404
    assert not AuditEntry.objects.filter(action="preview").exists()


def test_a_previewable_file_is_still_downloaded_raw_as_an_attachment_only(client):
    dossier = DossierFactory()
    raw = identity_scan(random.Random(5))
    piece = PieceJointeFactory(
        dossier=dossier, file_name="scan.jpg", mime_type="image/jpeg", content=raw
    )
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
    assert b"".join(response.streaming_content) == raw
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_preview_image_fetched_without_its_page_is_audited_once(client):
    """Every consultation is audited: the image URL alone shows the document too. Fetched from
    the preview page just audited, its images add no entry of their own."""
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier, file_name="acte.pdf", content=pdf())
    client.force_login(agent_for(dossier.demarche))

    assert client.get(image_url(piece, 1)).status_code == 200
    assert client.get(image_url(piece, 2)).status_code == 200
    direct = AuditEntry.objects.filter(action="preview")
    assert direct.count() == 1
    assert direct.get().object_ref == f"pièce jointe {piece.pk}"

    AuditEntry.objects.all().delete()
    client.get(preview_url(piece))
    client.get(image_url(piece, 1))
    assert AuditEntry.objects.filter(action="preview").count() == 1
