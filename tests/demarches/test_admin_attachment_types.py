"""The admin page of the attachment type labels (administrateur technique)."""

import pytest
from django.urls import reverse

from demarches.models import AttachmentTypeLabel
from tests.conftest import log_in
from tests.factories import staff_with

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:demarches_attachmenttypelabel_changelist")
ADD = reverse("admin:demarches_attachmenttypelabel_add")


def change_url(item):
    return reverse("admin:demarches_attachmenttypelabel_change", args=[item.pk])


def test_the_list_shows_codes_labels_and_guesses(admin_client):
    page = admin_client.get(CHANGELIST).content.decode()
    assert "types de pièces" in page.lower()
    assert "10870-PDF" in page and "Notice individuelle de recensement" in page
    assert "Libellé supposé" in page  # the assumed column, in words (no « True » icon)
    assert '<td class="field-assumed_text">Oui</td>' in page
    assert '<td class="field-assumed_text">Non</td>' in page
    assert 'alt="True"' not in page and 'alt="False"' not in page


def test_the_list_searches_codes_and_labels(admin_client):
    page = admin_client.get(CHANGELIST, {"q": "partenaire"}).content.decode()
    assert "anp" in page and "10870-PDF" not in page


def test_a_new_code_is_added_and_its_message_is_french(admin_client):
    response = admin_client.post(
        ADD, {"code": "FormulaireQF", "label": "Formulaire de quotient familial"}, follow=True
    )
    item = AttachmentTypeLabel.objects.get(code="FormulaireQF")
    assert (item.label, item.assumed) == ("Formulaire de quotient familial", False)
    page = response.content.decode()
    assert "type de pièce" in page and "ajouté avec succès" in page


def test_a_label_is_changed(admin_client):
    item = AttachmentTypeLabel.objects.get(code="jf")
    assert admin_client.get(change_url(item)).status_code == 200
    response = admin_client.post(
        change_url(item), {"code": "jf", "label": "Justificatif familial", "assumed": "on"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.label, item.assumed) == ("Justificatif familial", True)


def test_a_duplicate_code_is_refused_in_french(admin_client):
    response = admin_client.post(ADD, {"code": "ji", "label": "Doublon"})
    assert response.status_code == 200
    assert "Ce code a déjà un libellé" in response.content.decode()
    assert AttachmentTypeLabel.objects.filter(code="ji").count() == 1


def test_staff_without_the_permission_cannot_write(client):
    log_in(client, staff_with("demarches.view_attachmenttypelabel"))
    assert client.get(CHANGELIST).status_code == 200
    item = AttachmentTypeLabel.objects.get(code="cp")
    response = client.post(change_url(item), {"code": "cp", "label": "Piraté"})
    assert response.status_code == 403
    assert client.post(ADD, {"code": "x", "label": "y"}).status_code == 403
    item.refresh_from_db()
    assert item.label == "Convention de PACS"


def test_staff_with_the_permission_may_add(client):
    log_in(
        client,
        staff_with("demarches.view_attachmenttypelabel", "demarches.add_attachmenttypelabel"),
    )
    assert client.post(ADD, {"code": "GRO", "label": "Déclaration de grossesse"}).status_code == 302
    assert AttachmentTypeLabel.objects.filter(code="GRO").exists()
