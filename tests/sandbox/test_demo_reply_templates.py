"""The demo's reply templates: a few per démarche that allows messages, none for CERTDC."""

from __future__ import annotations

from pathlib import Path

import pytest

from demarches.models import Demarche, ReplyTemplate
from demarches.reply_templates import Purpose, find_unknown
from hubee_portal.demo import seeding

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def download_root(settings, tmp_path: Path) -> Path:
    settings.HUBEE_DOWNLOAD_ROOT = tmp_path / "telechargements"
    return settings.HUBEE_DOWNLOAD_ROOT


def test_each_demarche_with_messages_gets_one_template_per_form():
    result = seeding.set_up(dossiers=0)
    for demarche in Demarche.objects.all():
        templates = list(demarche.reply_templates.all())
        if not demarche.allows_messages:
            assert demarche.process_code == "CERTDC"
            assert templates == []
            continue
        assert sorted(t.purpose for t in templates) == sorted(
            [Purpose.MESSAGE, Purpose.COMPLEMENT, Purpose.REFUSAL]
        )
        for item in templates:
            item.full_clean()  # valid as the admin would have it
            assert "{prenom}" in item.text and "{numero}" in item.text
            assert find_unknown(item.text) == []
    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    assert "Acte envoyé" in etat_civil.reply_templates.values_list("name", flat=True)
    assert any("modèle de réponse" in line for line in result.created)


def test_a_second_run_keeps_edited_templates_and_creates_nothing():
    seeding.set_up(dossiers=0)
    edited = ReplyTemplate.objects.get(demarche__process_code="EtatCivil", name="Acte envoyé")
    edited.text = "Bonjour {prenom}, texte de la commune."
    edited.save()
    count = ReplyTemplate.objects.count()
    again = seeding.set_up(dossiers=0)
    assert not any("modèle de réponse" in line for line in again.created)
    assert ReplyTemplate.objects.count() == count
    edited.refresh_from_db()
    assert edited.text == "Bonjour {prenom}, texte de la commune."
    # A deleted one is mended, like the rest of the demo.
    edited.delete()
    seeding.set_up(dossiers=0)
    assert ReplyTemplate.objects.filter(name="Acte envoyé").exists()
