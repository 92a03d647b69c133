"""The installation's logo (issue 21): PNG or JPEG only, re-encoded by Pillow, stored in the
database and served by the portal with its own content type and nosniff."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from demarches import logo
from demarches.models import Organisation
from tests.conftest import log_in
from tests.factories import AdminFactory, OrganisationFactory


def picture(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 80, 130)).save(out, format=kind)
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_AS_PNG = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(("kind", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_png_and_jpeg_are_reencoded(kind, content_type):
    crafted = picture(kind) + b"<script>alert(1)</script>"  # trailing data: a polyglot
    result = logo.reencode(crafted)
    assert result.content_type == content_type
    assert result.content != crafted and b"<script>" not in result.content
    assert Image.open(io.BytesIO(result.content)).size == (40, 20)


def test_a_large_logo_is_reduced():
    result = logo.reencode(picture("PNG", (2000, 1000)))
    assert Image.open(io.BytesIO(result.content)).size == (logo.MAX_SIDE, logo.MAX_SIDE // 2)


@pytest.mark.parametrize(
    "data",
    [SVG, picture("GIF"), picture("BMP"), HTML_AS_PNG, b"\xff\xd8\xff<html></html>"],
    ids=["svg", "gif", "bmp", "html-as-png", "html-as-jpeg"],
)
def test_anything_else_is_refused_in_french(data):
    with pytest.raises(ValidationError) as refused:
        logo.reencode(data)
    assert refused.value.messages[0].startswith("Le logo")


def test_a_huge_canvas_is_refused_before_decoding():
    # A PNG header declaring 6000 × 6000 pixels (a decompression bomb), in a few bytes.
    with pytest.raises(ValidationError, match="6000 × 6000"):
        logo.reencode(picture("PNG", (6000, 6000)))


@pytest.mark.django_db
def test_uploaded_in_the_admin_shown_in_the_header_and_served_with_nosniff(client):
    organisation = OrganisationFactory()
    log_in(client, AdminFactory())
    url = f"/admin/demarches/organisation/{organisation.pk}/change/"
    form = {"name": "Commune de Nice", "siret": organisation.siret, "code_guichet": "06088"}
    refused = client.post(
        url, {**form, "logo_file": SimpleUploadedFile("logo.png", SVG, "image/png")}
    )
    assert refused.status_code == 200
    assert "Le logo doit être une image PNG ou JPEG" in refused.content.decode()
    crafted = picture("PNG") + b"trailing"
    done = client.post(
        url, {**form, "logo_file": SimpleUploadedFile("logo.png", crafted, "image/png")}
    )
    assert done.status_code == 302
    organisation.refresh_from_db()
    assert organisation.logo_type == "image/png" and bytes(organisation.logo) != crafted

    page = Client().get("/connexion/").content.decode()
    src = page.split('<img class="logo" src="')[1].split('"')[0]
    served = Client().get(src)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served.content == bytes(organisation.logo)

    client.post(url, {**form, "remove_logo": "on"})
    assert Organisation.objects.get().logo_type == ""
    assert '<img class="logo"' not in Client().get("/connexion/").content.decode()
    assert Client().get(src).status_code == 404


@pytest.mark.django_db
def test_portal_name_and_logo_settings_win(settings, tmp_path):
    OrganisationFactory()
    OrganisationFactory(name="Commune de Cagnes", siret="21060027600012")
    path = tmp_path / "logo.jpg"
    path.write_bytes(picture("JPEG"))
    settings.PORTAL_NAME = "Métropole Nice Côte d'Azur"
    settings.PORTAL_LOGO = str(path)
    page = Client().get("/connexion/").content.decode()
    assert "Métropole Nice Côte d&#x27;Azur" in page
    src = page.split('<img class="logo" src="')[1].split('"')[0]
    assert Client().get(src)["Content-Type"] == "image/jpeg"
