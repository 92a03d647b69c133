"""Review finding: the CERTDC médico-légal indications are readable through the field view of
the same XML (dossiers:piece-fields) without opening the sensitive section and without any
VIEW_SENSITIVE audit entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, PieceJointe
from tests.factories import agent_for
from tests.views.test_views_request import deposit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.xfail(
        strict=True, reason="CERTDC funeral indications readable without the sensitive audit"
    ),
]


def test_the_field_view_of_a_certdc_flux_does_not_bypass_the_sensitive_audit(client):
    dossier = deposit("CERTDC")
    client.force_login(agent_for(dossier.demarche))
    leaked = []
    for piece in PieceJointe.objects.filter(dossier=dossier):
        if not piece.file_name.endswith(".xml"):
            continue
        html = client.get(
            reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk])
        ).content.decode()
        if "dico" in html or "Obstacle" in html:  # « Obstacle médico légal », « Obstacle … »
            leaked.append(piece.file_name)
    assert leaked, "the generated CERTDC deposit should hold InformationsFuneraires"
    # Shown outside the gated section: at least it must leave a VIEW_SENSITIVE entry.
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists(), leaked


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
