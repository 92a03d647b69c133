"""Downloads: one file or all as a streamed ZIP; always as attachments, never sniffed."""

import io
import tracemalloc
import zipfile
from urllib.parse import quote

import pytest
from django.urls import reverse

from dossiers.models import AuditEntry
from dossiers.web.responses import content_disposition
from hubee_portal.sandbox import storage as sandbox_storage
from tests.factories import DossierFactory, PieceJointeFactory, agent_for
from tests.views.conftest import pdf_bytes, received_dossier

pytestmark = pytest.mark.django_db


def assert_attachment_headers(response, filename):
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(filename, safe='')}" in disposition
    assert "inline" not in disposition


def test_a_file_is_the_sandbox_s_bytes_served_as_an_attachment(portal, login):
    demarche = portal.demarche("EtatCivil")
    content = pdf_bytes("acte", 50_000)
    case, dossier = received_dossier(
        portal, demarche, files=[("Acte de naissance é.pdf", "PDF", "application/pdf", content)]
    )
    client = login(agent_for(demarche))
    piece = dossier.pieces_jointes.get()
    response = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sandbox_id = case.attachments.get().id
    assert body == content == sandbox_storage.attachment_path(sandbox_id).read_bytes()
    assert_attachment_headers(response, "Acte de naissance é.pdf")
    assert 'filename="Acte de naissance _.pdf"' in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action="download")
    assert entry.object_ref == f"pièce jointe {piece.pk}"


def test_html_and_svg_files_are_never_rendered(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(
        dossier=dossier,
        file_name="page.html",
        mime_type="text/html",
        content=b"<script>alert(1)</script>",
    )
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ('a"b;c\\d.pdf', 'filename="a_b_c_d.pdf"'),
        ("émoji 📄.pdf", 'filename="_moji _.pdf"'),
    ],
)
def test_content_disposition_escapes_names(name, fallback):
    header = content_disposition(name)
    assert fallback in header
    assert header.endswith("filename*=UTF-8''" + quote(name, safe=""))
    assert "\n" not in header and "\r" not in header


def test_an_unavailable_file_is_404(client):
    dossier = DossierFactory()
    pending = PieceJointeFactory(dossier=dossier, state="pending")
    client.force_login(agent_for(dossier.demarche))
    assert (
        client.get(reverse("dossiers:download", args=[dossier.pk, pending.pk])).status_code == 404
    )
    stored = PieceJointeFactory(dossier=dossier)
    stored.absolute_path.unlink()
    assert client.get(reverse("dossiers:download", args=[dossier.pk, stored.pk])).status_code == 404
    assert not AuditEntry.objects.filter(action="download").exists()


def test_a_stored_path_outside_the_demarche_folder_is_refused(client, tmp_path):
    dossier = DossierFactory()
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    piece = PieceJointeFactory(dossier=dossier, state="pending")
    type(piece).objects.filter(pk=piece.pk).update(
        state="stored", stored_path=f"../../../../../../../../{outside}"
    )
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
    assert response.status_code == 404


def test_zip_holds_every_available_file(portal, login):
    demarche = portal.demarche("EtatCivil")
    files = [
        ("a.pdf", "PDF", "application/pdf", pdf_bytes("a", 30_000)),
        ("a.pdf", "PDF", "application/pdf", pdf_bytes("a-bis", 1000)),
        ("b.xml", "XML", "application/xml", b"<Demande><Nom>X</Nom></Demande>"),
        ("gone.pdf", "PDF", "application/pdf", pdf_bytes("gone"), "DELETED"),
    ]
    _, dossier = received_dossier(portal, demarche, files=files)
    client = login(agent_for(demarche))
    response = client.get(reverse("dossiers:download-all", args=[dossier.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert_attachment_headers(response, f"{dossier.folder_name}.zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = sorted(archive.namelist())
    folder = dossier.folder_name
    assert names == [f"{folder}/a (2).pdf", f"{folder}/a.pdf", f"{folder}/b.xml"]
    assert archive.read(f"{folder}/a.pdf") == files[0][3]
    assert archive.read(f"{folder}/a (2).pdf") == files[1][3]
    assert AuditEntry.objects.get(action="download_all").detail == "3 pièces"


def test_zip_streams_without_holding_the_files_in_memory(client):
    dossier = DossierFactory()
    size = 8 * 1024 * 1024
    for name in ("un.bin", "deux.bin"):
        PieceJointeFactory(
            dossier=dossier, file_name=name, content=bytes(range(256)) * (size // 256)
        )
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:download-all", args=[dossier.pk]))
    tracemalloc.start()
    try:
        total, biggest = 0, 0
        for chunk in response.streaming_content:
            total += len(chunk)
            biggest = max(biggest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 0
    assert biggest <= 1024 * 1024  # chunks, not whole files
    assert peak < size / 2, peak  # far less than one file


def test_zip_of_a_dossier_without_files_is_404(client):
    dossier = DossierFactory()
    client.force_login(agent_for(dossier.demarche))
    assert client.get(reverse("dossiers:download-all", args=[dossier.pk])).status_code == 404
