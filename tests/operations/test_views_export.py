"""CSV export of the dossier list: same filters and habilitations as the list, French Excel
format, audited."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from dossiers.models import AuditEntry
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, PieceJointeFactory, agent_for

pytestmark = pytest.mark.django_db
URL = reverse("dossiers:export")


def rows(response) -> list[list[str]]:
    assert response.streaming
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def setup():
    a = DemarcheFactory(name="Actes")
    b = DemarcheFactory(name="Recensement")
    d1 = DossierFactory(
        demarche=a,
        external_id="A-1",
        applicant_first_name="Élise",
        applicant_last_name="Dupré",
        applicant_email="elise@ex.fr",
        status="SI_RECEIVED",
    )
    PieceJointeFactory(dossier=d1)
    PieceJointeFactory(dossier=d1)
    DossierFactory(demarche=a, external_id="A-2", status="DONE", applicant_last_name="=1+1")
    DossierFactory(demarche=b, external_id="B-1", applicant_last_name="Secret")
    return a, b


def test_format_columns_and_audit(client, setup):
    a, _ = setup
    agent = agent_for(a)
    log_in(client, agent)
    response = client.get(URL, {"status": "SI_RECEIVED"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="dossiers-')
    header, *body = rows(response)
    assert header[0] == "Numéro de télédossier"
    assert len(header) == 8
    [row] = body
    assert row[0] == "A-1"
    assert row[1] == "Actes"
    assert row[2] == "Reçu"
    assert row[4:] == ["Dupré", "Élise", "elise@ex.fr", "2"]
    entry = AuditEntry.objects.get(action="export")
    assert entry.user == agent
    assert entry.detail == "status=SI_RECEIVED"


def test_agent_of_a_never_gets_b(client, setup):
    a, b = setup
    log_in(client, agent_for(a))
    ids = [row[0] for row in rows(client.get(URL))[1:]]
    assert sorted(ids) == ["A-1", "A-2"]
    # Even when asking for B's démarche explicitly: the filter refuses it, nothing of B.
    body = b"".join(client.get(URL, {"demarche": b.pk}).streaming_content).decode("utf-8-sig")
    assert "B-1" not in body
    assert "Secret" not in body


def test_admin_gets_all_and_filters_apply(client, setup, admin_user):
    a, b = setup
    log_in(client, admin_user)
    assert sorted(r[0] for r in rows(client.get(URL))[1:]) == ["A-1", "A-2", "B-1"]
    assert [r[0] for r in rows(client.get(URL, {"demarche": b.pk}))[1:]] == ["B-1"]
    assert [r[0] for r in rows(client.get(URL, {"q": "Dupré"}))[1:]] == ["A-1"]
    assert [r[0] for r in rows(client.get(URL, {"file": "traites"}))[1:]] == ["A-2"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_is_neutralised(client, setup, admin_user, start):
    DossierFactory(demarche=setup[0], external_id="A-3", applicant_last_name=f"{start}1+1")
    log_in(client, admin_user)
    [row] = rows(client.get(URL, {"q": "A-3"}))[1:]
    assert row[4] == f"'{start}1+1"


def test_the_audit_keeps_the_filters_not_the_search_words(client, setup, admin_user):
    log_in(client, admin_user)
    rows(client.get(URL, {"q": "Dupré", "status": "SI_RECEIVED"}))
    assert AuditEntry.objects.get(action="export").detail == "status=SI_RECEIVED&recherche"
    rows(client.get(URL, {"q": "  "}))
    assert AuditEntry.objects.order_by("-pk").first().detail == ""


def test_login_required(client, setup):
    response = client.get(URL)
    assert response.status_code == 302


def test_link_on_the_list_keeps_the_filters(client, setup, admin_user):
    log_in(client, admin_user)
    page = client.get(reverse("dossiers:list"), {"status": "DONE", "page": "1"}).content.decode()
    assert f'href="{URL}?status=DONE"' in page
