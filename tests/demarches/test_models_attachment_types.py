"""Attachment type labels: seeded by migration, looked up in one query, raw code as fallback."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from demarches import attachment_types
from demarches.models import AttachmentTypeLabel
from dossiers.models import PieceJointe
from tests.factories import DossierFactory, PieceJointeFactory

pytestmark = pytest.mark.django_db

# Every type the HubEE test kit and the sandbox send (API.md section 10, sandbox content).
KIT_CODES = {
    "ActeEtatCivil-PDF",
    "ActeEtatCivil-XML",
    "10870-PDF",
    "10870-XML",
    "ji",
    "jf",
    "15725-02",
    "an",
    "anp",
    "cp",
    "flux-pacs",
    "recapPDF",
    "flux-siv",
    "DD_Certificatdedeces",
    "VA_CertificatdeDeces",
    "document",
}
GUESSED = {"ji", "jf", "an", "anp", "cp"}


def test_the_migration_labels_every_code_of_the_test_kit_and_the_sandbox():
    seeded = {item.code: item for item in AttachmentTypeLabel.objects.all()}
    assert set(seeded) >= KIT_CODES
    assert seeded["10870-PDF"].label == "Notice individuelle de recensement (cerfa 10870, PDF)"
    assert seeded["ActeEtatCivil-XML"].label == "Données de la demande (XML)"
    assert seeded["an"].label == "Acte de naissance (partenaire)"
    assert all(item.label and item.label != item.code for item in seeded.values())


def test_only_the_guessed_codes_are_marked_as_assumptions():
    assumed = set(AttachmentTypeLabel.objects.filter(assumed=True).values_list("code", flat=True))
    assert assumed == GUESSED


def test_codes_are_case_sensitive_and_unique():
    AttachmentTypeLabel.objects.create(code="JI", label="Autre chose")  # not "ji"
    with pytest.raises(IntegrityError), transaction.atomic():
        AttachmentTypeLabel.objects.create(code="ji", label="Doublon")


def names(*codes: str) -> dict[str, attachment_types.AttachmentTypeName]:
    """Each code's name, read as the dossier page reads it: inside the attachments' query."""
    dossier = DossierFactory()
    for code in codes:
        PieceJointeFactory(dossier=dossier, attachment_type=code)
    rows = PieceJointe.objects.filter(dossier=dossier).annotate(
        **attachment_types.label_annotations("attachment_type")
    )
    return {
        row.attachment_type: attachment_types.name_of_annotated(row, row.attachment_type)
        for row in rows
    }


def test_a_known_code_reads_as_its_label_and_a_guess_says_so():
    found = names("10870-XML", "ji")
    assert found["10870-XML"].text == "Données du recensement (cerfa 10870, XML)"
    assert found["10870-XML"].known and not found["10870-XML"].assumed
    assert found["ji"].text == "Pièce d'identité (type supposé)"
    assert found["ji"].code == "ji"


def test_an_unknown_code_falls_back_to_itself_and_an_empty_one_to_a_dash():
    found = names("XYZ-42", "Ji", "")
    assert found["XYZ-42"].text == "XYZ-42" and not found["XYZ-42"].known
    assert found["Ji"].text == "Ji"  # "ji" is labelled, "Ji" is another code
    assert found[""].text == "—"


def test_labels_come_in_the_attachments_query_whatever_their_number():
    dossier = DossierFactory()
    for code in [*KIT_CODES, "inconnu-1", "inconnu-2"]:
        PieceJointeFactory(dossier=dossier, attachment_type=code)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(
            PieceJointe.objects.filter(dossier=dossier).annotate(
                **attachment_types.label_annotations("attachment_type")
            )
        )
        texts = {attachment_types.name_of_annotated(row, row.attachment_type).text for row in rows}
    assert len(ctx.captured_queries) == 1
    assert "Convention de PACS (type supposé)" in texts and "inconnu-1" in texts


def test_an_edited_or_added_label_is_read_at_once():
    AttachmentTypeLabel.objects.filter(code="jf").update(
        label="Justificatif de situation familiale", assumed=False
    )
    AttachmentTypeLabel.objects.create(code="nouveau", label="Nouveau type", assumed=True)
    found = names("jf", "nouveau")
    assert found["jf"].text == "Justificatif de situation familiale"
    assert found["nouveau"].text == "Nouveau type (type supposé)"


def test_a_row_read_without_the_annotations_shows_its_raw_code():
    piece = PieceJointeFactory(attachment_type="cp")
    assert attachment_types.name_of_annotated(piece, "cp").text == "cp"
