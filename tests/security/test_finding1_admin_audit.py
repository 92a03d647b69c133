"""Finding 1: reading a dossier in the Django admin (its page with files and events, its
history, an outgoing push, the lists and their search) is in the audit journal, like on the
agent pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, OutgoingEvent
from tests.conftest import log_in
from tests.factories import DossierFactory, EvenementFactory, PieceJointeFactory, staff_with

pytestmark = pytest.mark.django_db

READER = (
    "dossiers.view_dossier",
    "dossiers.view_piecejointe",
    "dossiers.view_evenement",
    "dossiers.view_outgoingevent",
)


@pytest.fixture
def reader(client):
    """An administrateur technique habilitated on one démarche, reading in the admin."""
    mine = DossierFactory()
    PieceJointeFactory(dossier=mine, file_name="acte.pdf")
    EvenementFactory(dossier=mine)
    push = OutgoingEvent.objects.create(dossier=mine, message="Bonjour", author="x")
    other = DossierFactory()
    user = staff_with(*READER)
    mine.demarche.agents.add(user)
    log_in(client, user)
    return client, user, mine, push, other


def entries():
    return list(AuditEntry.objects.order_by("id"))


def test_a_dossier_read_in_the_admin_is_audited(reader):
    client, user, mine, _, _ = reader
    page = client.get(reverse("admin:dossiers_dossier_change", args=[mine.pk]))
    assert page.status_code == 200 and "acte.pdf" in page.content.decode()  # its files too
    [entry] = entries()
    assert (entry.user, entry.action, entry.dossier) == (user, AuditAction.VIEW, mine)
    assert entry.dossier_ref == mine.external_id
    assert "admin" in entry.detail

    assert client.get(reverse("admin:dossiers_dossier_history", args=[mine.pk])).status_code == 200
    history = entries()[-1]
    assert (history.action, history.dossier, history.detail) == (
        AuditAction.VIEW,
        mine,
        "admin, historique",
    )


def test_an_outgoing_push_read_in_the_admin_is_audited(reader):
    client, user, mine, push, _ = reader
    assert client.get(reverse("admin:dossiers_outgoingevent_change", args=[push.pk])).status_code
    [entry] = entries()
    assert (entry.user, entry.action, entry.dossier) == (user, AuditAction.VIEW, mine)
    assert entry.object_ref == f"outgoingevent {push.pk}"
    client.get(reverse("admin:dossiers_outgoingevent_changelist"))
    assert entries()[-1].action == AuditAction.LIST
    assert entries()[-1].detail.startswith("admin, envois")


def test_the_admin_list_and_its_search_are_audited(reader):
    client, user, mine, _, _ = reader
    url = reverse("admin:dossiers_dossier_changelist")
    assert mine.external_id in client.get(url).content.decode()
    assert mine.external_id in client.get(url, {"q": mine.external_id}).content.decode()
    listed, searched = entries()
    assert (listed.user, listed.action, listed.dossier) == (user, AuditAction.LIST, None)
    assert listed.detail == "admin, dossiers, page 1"
    assert searched.detail == f"admin, dossiers, page 1, recherche « {mine.external_id} »"


def test_a_dossier_out_of_reach_leaves_no_entry(reader):
    client, _, _, _, other = reader
    for name in ("dossier_change", "dossier_history"):
        assert client.get(reverse(f"admin:dossiers_{name}", args=[other.pk])).status_code == 302
    assert not AuditEntry.objects.filter(dossier=other).exists()
