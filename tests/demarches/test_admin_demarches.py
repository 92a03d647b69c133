import logging

import pytest
from django.urls import reverse

from demarches.models import Demarche
from tests.factories import DemarcheFactory, HubEEConnectionFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-du-portail-HUBEE-42"


def form_data(demarche_kwargs=None, **overrides):
    organisation = OrganisationFactory()
    connection = HubEEConnectionFactory()
    data = {
        "name": "Actes d'état civil",
        "process_code": "EtatCivil",
        "organisation": organisation.pk,
        "connection": connection.pk,
        "client_id": "client-etat-civil",
        "client_secret": SECRET,
        "download_folder": "",
        "automatic_status": "SI_RECEIVED",
        "allow_done": "on",
        "allow_refused": "on",
        "automatic_final_status": "",
        "enabled": "on",
        "retention_months": "12",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_demarche_with_an_encrypted_secret(admin_client, tmp_path):
    data = form_data(download_folder=str(tmp_path / "etat-civil"))
    response = admin_client.post(reverse("admin:demarches_demarche_add"), data)
    assert response.status_code == 302, response.content.decode()
    demarche = Demarche.objects.get(client_id="client-etat-civil")
    assert demarche.client_secret == SECRET
    assert SECRET not in demarche.client_secret_encrypted


def test_secret_is_required_on_creation(admin_client, tmp_path):
    data = form_data(download_folder=str(tmp_path), client_secret="")
    response = admin_client.post(reverse("admin:demarches_demarche_add"), data)
    assert response.status_code == 200
    assert "Le secret client est obligatoire." in response.content.decode()
    assert not Demarche.objects.exists()


def test_secret_never_rendered_back(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    demarche = DemarcheFactory(client_secret=SECRET)
    pages = [
        reverse("admin:demarches_demarche_change", args=[demarche.pk]),
        reverse("admin:demarches_demarche_changelist"),
        reverse("admin:demarches_demarche_history", args=[demarche.pk]),
        reverse("admin:demarches_demarche_delete", args=[demarche.pk]),
        reverse("admin:index"),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert SECRET not in html, url
        assert demarche.client_secret_encrypted not in html, url
    assert SECRET not in caplog.text


def test_blank_secret_on_edit_keeps_the_current_one(admin_client, tmp_path):
    demarche = DemarcheFactory(client_secret=SECRET)
    data = form_data(
        download_folder=demarche.download_folder,
        client_id=demarche.client_id,
        client_secret="",
        name="Nouveau nom",
    )
    data["organisation"] = demarche.organisation.pk
    data["connection"] = demarche.connection.pk
    url = reverse("admin:demarches_demarche_change", args=[demarche.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    demarche.refresh_from_db()
    assert demarche.name == "Nouveau nom"
    assert demarche.client_secret == SECRET

    data["client_secret"] = "nouveau-secret"
    assert admin_client.post(url, data).status_code == 302
    demarche.refresh_from_db()
    assert demarche.client_secret == "nouveau-secret"


def test_validation_errors_are_shown_in_french(admin_client):
    data = form_data(download_folder="relatif/dossier", automatic_final_status="DONE")
    data.pop("allow_done")
    response = admin_client.post(reverse("admin:demarches_demarche_add"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "doit être un chemin absolu" in html
    assert "statuts finaux autorisés" in html
    # The secret typed in is not echoed back in the re-displayed form.
    assert SECRET not in html


def test_admin_requires_login(client):
    response = client.get(reverse("admin:demarches_demarche_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_portal_pages_require_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_enable_action(admin_client):
    demarche = DemarcheFactory(enabled=False)
    response = admin_client.post(
        reverse("admin:demarches_demarche_changelist"),
        {"action": "enable", "_selected_action": [demarche.pk]},
    )
    assert response.status_code == 302
    demarche.refresh_from_db()
    assert demarche.enabled


def test_changelist_query_count_does_not_grow_with_demarches(admin_client):
    # Issue 22: an operator's list of 2,500 démarches (100 a page), each with its organisation
    # and connection in the list's query.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:demarches_demarche_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200
        return len(captured)

    for _ in range(3):
        DemarcheFactory()
    admin_client.get(url)
    few = queries()
    for _ in range(9):
        DemarcheFactory()
    assert queries() == few


def test_changelist_filters_and_finds_by_organisation(admin_client):
    vence = OrganisationFactory(name="Vence", siret="21060157600015")
    grasse = OrganisationFactory(name="Grasse", siret="21060069300018")
    here = DemarcheFactory(name="Actes de Vence", organisation=vence)
    there = DemarcheFactory(name="Actes de Grasse", organisation=grasse)
    url = reverse("admin:demarches_demarche_changelist")
    text = admin_client.get(url).content.decode()
    assert f"?organisation__id__exact={here.organisation_id}" in text
    assert str(there.organisation) in text
    filtered = admin_client.get(url, {"organisation__id__exact": here.organisation_id})
    assert list(filtered.context["cl"].result_list) == [here]
    found = admin_client.get(url, {"q": here.organisation.siret})
    assert list(found.context["cl"].result_list) == [here]
