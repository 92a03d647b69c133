"""« La demande » on the dossier page: the summary, the field view as a fallback, and the
CERTDC sensitive section, closed by default and audited when opened."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry
from hubee_portal.sandbox import content
from tests.factories import (
    DemarcheFactory,
    DossierFactory,
    PieceJointeFactory,
    UserFactory,
    agent_for,
)

pytestmark = pytest.mark.django_db


def deposit(process_code: str, files=None, seed: int = 5, demarche=None):
    demarche = demarche or DemarcheFactory(process_code=process_code)
    dossier = DossierFactory(demarche=demarche)
    if files is None:
        rng = random.Random(seed)
        applicant = content.random_applicant(rng)
        generated = content.generate_files(
            process_code, applicant, content.new_external_id(process_code, rng), rng
        )
        files = [(f.file_name, f.mime_type, f.content) for f in generated]
    for name, mime, data in files:
        PieceJointeFactory(dossier=dossier, file_name=name, mime_type=mime, content=data)
    return dossier


def page(client, dossier, query=""):
    client.force_login(agent_for(dossier.demarche))
    return client.get(reverse("dossiers:detail", args=[dossier.pk]) + query)


def test_an_agent_reads_the_request_of_an_etat_civil_dossier(client):
    response = page(client, deposit("EtatCivil"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="demande">La demande</h2>' in html
    assert "Demande d&#x27;acte de" in html
    assert "Acte demandé" in html and "Nombre d&#x27;exemplaires" in html
    assert "format supposé" not in html  # read from the real schema


@pytest.mark.parametrize("code", ["depotDossierPACS", "JeChangeDeCoordonnees", "CERTDC"])
def test_assumed_schemas_are_said(client, code):
    html = page(client, deposit(code)).content.decode()
    assert "Lu d'après un format supposé" in html


def test_an_unknown_demarche_gets_the_field_view(client):
    xml = b"<Formulaire><DateDepot>2024-03-02</DateDepot><Objet>Jardin</Objet></Formulaire>"
    response = page(client, deposit("MaDemarche", [("f.xml", "application/xml", xml)]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "n'est pas reconnu pour cette démarche" in html
    assert "2 mars 2024" in html and "Date dépôt" in html and "Jardin" in html


def test_an_unreadable_flux_is_explained_not_an_error_page(client):
    files = [("demande.xml", "application/xml", b"<DemandeActe><TypeActe>")]
    first = deposit("EtatCivil", files)
    response = page(client, first)
    assert response.status_code == 200
    assert "incomplet ou mal formé" in response.content.decode()
    empty = [("d.xml", "application/xml", b"")]
    response = page(client, deposit("EtatCivil", empty, demarche=first.demarche))
    assert response.status_code == 200
    assert "Ce fichier est vide" in response.content.decode()


def test_a_hostile_flux_is_refused_on_the_page(client):
    bomb = b'<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;&x;</a>'
    response = page(client, deposit("EtatCivil", [("d.xml", "application/xml", bomb)]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "par sécurité, il n&#x27;est pas affiché" in html and "xxxxxxxx" not in html


def test_a_dossier_without_xml_says_so(client):
    files = [("demande.pdf", "application/pdf", b"%PDF-1.4")]
    html = page(client, deposit("EtatCivil", files)).content.decode()
    assert "Aucun fichier XML lisible n'accompagne le dépôt" in html


def test_certdc_sensitive_section_is_closed_by_default(client):
    dossier = deposit("CERTDC")
    html = page(client, dossier).content.decode()
    assert "Informations sensibles" in html
    assert "Obstacle médico-légal" not in html
    assert "?sensible=1#informations-sensibles" in html
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()


def test_opening_the_sensitive_section_is_audited(client):
    dossier = deposit("CERTDC")
    html = page(client, dossier, "?sensible=1").content.decode()
    assert "Obstacle médico-légal" in html
    assert "a été enregistrée dans le journal d'audit" in html
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_SENSITIVE)
    assert entry.dossier == dossier and entry.username


def test_the_sensitive_section_is_not_visible_without_access(client):
    dossier = deposit("CERTDC")
    client.force_login(UserFactory())
    response = client.get(reverse("dossiers:detail", args=[dossier.pk]) + "?sensible=1")
    assert response.status_code == 404
    assert "Obstacle" not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()


def test_the_sensitive_query_on_another_demarche_audits_nothing(client):
    page(client, deposit("EtatCivil"), "?sensible=1")
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()


def test_nothing_extracted_is_stored(client):
    dossier = deposit("recensementCitoyen")
    client.force_login(agent_for(dossier.demarche))
    before = AuditEntry.objects.count()
    response = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert "Recensement citoyen obligatoire" in response.content.decode()
    # The page writes only its usual rows (view mark, audit), never the extracted values.
    assert AuditEntry.objects.count() == before + 1
