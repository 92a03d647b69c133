"""Review finding: the CERTDC médico-légal indications were readable through the field view of
the same XML (dossiers:piece-fields), or on the dossier page when the block sat elsewhere than
expected, without opening the sensitive section and so without any VIEW_SENSITIVE entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, PieceJointe
from tests.factories import agent_for
from tests.views.test_views_request import deposit

pytestmark = pytest.mark.django_db


def test_the_field_view_of_a_certdc_flux_does_not_bypass_the_sensitive_audit(client):
    dossier = deposit("CERTDC")
    client.force_login(agent_for(dossier.demarche))
    leaked, holding = [], []
    for piece in PieceJointe.objects.filter(dossier=dossier):
        if not piece.file_name.endswith(".xml"):
            continue
        if b"InformationsFuneraires" in piece.absolute_path.read_bytes():
            holding.append(piece.file_name)
        html = client.get(
            reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk])
        ).content.decode()
        if "dico" in html or "Obstacle" in html:  # « Obstacle médico légal », « Obstacle … »
            leaked.append(piece.file_name)
    assert holding, "the generated CERTDC deposit should hold InformationsFuneraires"
    # Never shown outside the gated section, unless its opening was audited.
    assert not leaked or AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()


FUNERAL = (
    "<InformationsFuneraires><ObstacleMedicoLegal>true</ObstacleMedicoLegal>"
    "<RechercheCauseDeces>true</RechercheCauseDeces></InformationsFuneraires>"
)


@pytest.mark.parametrize(
    "xml",
    [
        # A root the extractor does not know (the schema is only assumed): field view.
        f"<CertificatDeces><NomDefunt>Martin</NomDefunt>{FUNERAL}</CertificatDeces>",
        # Known root, the block one level down: listed under « Autres champs ».
        "<InsermCertificatAdministrative><Defunt><Nom>Martin</Nom></Defunt>"
        f"<VoletMedical>{FUNERAL}</VoletMedical></InsermCertificatAdministrative>",
        # Known root, a second block: only the first is gated.
        "<InsermCertificatAdministrative><Defunt><Nom>Martin</Nom></Defunt>"
        f"<InformationsFuneraires/>{FUNERAL}</InsermCertificatAdministrative>",
    ],
)
def test_the_dossier_page_never_shows_funeral_indications_ungated(client, xml):
    dossier = deposit("CERTDC", files=[("certdc.xml", "application/xml", xml.encode())])
    client.force_login(agent_for(dossier.demarche))
    html = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Martin" in html  # the flux was read
    assert "Recherche cause" not in html and "Obstacle médico" not in html
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()
    # Opened on purpose, they are there, and the opening is recorded.
    url = reverse("dossiers:detail", args=[dossier.pk]) + "?sensible=1"
    opened = client.get(url).content.decode()
    assert "Recherche de la cause du décès demandée" in opened
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).count() == 1
