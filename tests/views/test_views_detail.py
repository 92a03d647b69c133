"""The dossier page: applicant, references, attachments, history and exchanges."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers.models import AuditEntry, DossierView, OutgoingEvent
from hubee_portal.sandbox import services as sandbox
from tests.conftest import log_in
from tests.factories import (
    DossierFactory,
    EvenementFactory,
    PieceJointeFactory,
    UserFactory,
    agent_for,
)
from tests.views.conftest import pdf_bytes, received_dossier

pytestmark = pytest.mark.django_db


def detail_url(dossier):
    return reverse("dossiers:detail", args=[dossier.pk])


def test_shows_applicant_references_files_and_history(portal, login):
    demarche = portal.demarche("EtatCivil", automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(
        portal,
        demarche,
        applicant={"firstName": "Camille", "lastName": "Martin", "email": "camille@ex.fr"},
    )
    client = login(agent_for(demarche))
    page = client.get(detail_url(dossier)).content.decode()
    assert "Camille Martin" in page and "camille@ex.fr" in page
    assert case.external_id in page and str(case.id) in page
    assert "demande.pdf" in page and "demande.xml" in page
    assert "Vérifiée" in page and dossier.pieces_jointes.first().sha256[:12] in page
    assert "Télécharger toutes les pièces (ZIP)" in page
    # The conversation: the automatic SI_RECEIVED, by the portal, transmitted.
    assert "Passage au statut « Reçu »" in page
    assert "Le portail (automatique)" in page
    assert "Transmis à HubEE</span>" in page


def test_timeline_shows_citizen_answers_and_their_files(portal, login):
    demarche = portal.demarche("EtatCivil", allows_messages=True, rules={"allows_messages": True})
    case, dossier = received_dossier(portal, demarche)
    sandbox.osl_attach_deposit(
        case,
        [("justificatif.pdf", "PJ", "application/pdf", pdf_bytes("justif"))],
        message="Voici le justificatif demandé.",
    )
    portal.sync(demarche)
    client = login(agent_for(demarche))
    page = client.get(detail_url(dossier)).content.decode()
    assert "Voici le justificatif demandé." in page
    assert "Complément de l&#x27;usager" in page
    assert page.count("justificatif.pdf") >= 2  # in the attachments and in the timeline


def test_unavailable_attachments_are_explained(portal, login):
    demarche = portal.demarche("EtatCivil")
    files = [
        ("ok.pdf", "PJ", "application/pdf", pdf_bytes("ok")),
        ("virus.pdf", "PJ", "application/pdf", pdf_bytes("virus")),
    ]
    _, dossier = received_dossier(
        portal, demarche, files=files, attachment_statuses=["RECEIVED", "CORRUPTED"]
    )
    client = login(agent_for(demarche))
    page = client.get(detail_url(dossier)).content.decode()
    assert "antivirus" in page
    virus = dossier.pieces_jointes.get(file_name="virus.pdf")
    assert reverse("dossiers:download", args=[dossier.pk, virus.pk]) not in page


def test_a_stored_file_missing_on_disk_is_flagged(client):
    dossier = DossierFactory()
    piece = PieceJointeFactory(dossier=dossier)
    piece.absolute_path.unlink()
    log_in(client, agent_for(dossier.demarche))
    page = client.get(detail_url(dossier)).content.decode()
    assert "plus sur le serveur" in page
    assert reverse("dossiers:download", args=[dossier.pk, piece.pk]) not in page


def test_viewing_marks_read_and_is_audited(client):
    dossier = DossierFactory()
    agent = agent_for(dossier.demarche)
    log_in(client, agent)
    client.get(detail_url(dossier))
    assert DossierView.objects.filter(user=agent, dossier=dossier).exists()
    entry = AuditEntry.objects.get(action="view")
    assert (entry.user, entry.dossier, entry.dossier_ref) == (agent, dossier, dossier.external_id)


def test_outbox_states_are_shown_with_a_retry_button(client):
    dossier = DossierFactory(status="IN_PROGRESS")
    OutgoingEvent.objects.create(
        dossier=dossier, action_type="SENDING_MESSAGE", message="m", author="a"
    )
    OutgoingEvent.objects.create(
        dossier=dossier,
        case_new_status="DONE",
        author="a",
        state="failed",
        failure="refused",
        last_error="HubEE rejected the request as invalid: POST /x -> HTTP 400",
    )
    log_in(client, agent_for(dossier.demarche))
    page = client.get(detail_url(dossier)).content.decode()
    assert "En attente d&#x27;envoi</span>" in page
    assert "Refusé par HubEE</span>" in page and "Réessayer" in page
    # The technical text is for the staff pages only.
    assert "HTTP 400" not in page and "rejected" not in page


def _grow(dossier, n):
    for _ in range(n):
        PieceJointeFactory(dossier=dossier)
        event = EvenementFactory(dossier=dossier, action_type="ATTACH_DEPOSIT")
        PieceJointeFactory(dossier=dossier, evenement=event)
        EvenementFactory(
            dossier=dossier, action_type="STATUS_UPDATE", case_new_status="HUBEE_NOTIFIED"
        )
        OutgoingEvent.objects.create(
            dossier=dossier,
            case_new_status="IN_PROGRESS",
            author="a",
            state="sent",
            created_by=UserFactory(),
        )
        dossier.demarche.agents.add(UserFactory())


def _count(client, dossier):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(detail_url(dossier))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_files_events_and_agents(client):
    dossier = DossierFactory(status="IN_PROGRESS")
    log_in(client, agent_for(dossier.demarche))
    _grow(dossier, 1)
    client.get(detail_url(dossier))  # first view creates the read mark
    small = _count(client, dossier)
    _grow(dossier, 25)
    large = _count(client, dossier)
    assert small == large
    # session, user, dossier (with its holder), events, attachments, outbox, team activity,
    # candidate agents, read mark, audit insert, whether its démarche is sensitive
    assert large == 11
