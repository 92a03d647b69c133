"""Who may habilitate whom: an administrateur technique never opens dossiers to themselves."""

import pytest
from django.urls import reverse

from tests.conftest import log_in
from tests.demarches.test_admin_secret_destination import SECRET, demarche_form
from tests.factories import DemarcheFactory, DossierFactory, UserFactory, staff_with

pytestmark = pytest.mark.django_db

EDITOR = ("demarches.view_demarche", "demarches.change_demarche")


def change(client, demarche, **overrides):
    url = reverse("admin:demarches_demarche_change", args=[demarche.pk])
    return client.post(url, demarche_form(demarche, **overrides))


def test_staff_cannot_habilitate_themselves_to_read_dossiers(client):
    demarche = DemarcheFactory(client_secret=SECRET)
    dossier = DossierFactory(demarche=demarche)
    staff = staff_with(*EDITOR, username="tech")
    log_in(client, staff)

    response = change(client, demarche, agents=[staff.pk])

    assert response.status_code == 200
    assert "Vous ne pouvez pas vous habiliter vous-même" in response.content.decode()
    assert not demarche.agents.filter(pk=staff.pk).exists()
    assert client.get(reverse("dossiers:detail", args=[dossier.pk])).status_code == 404


def test_staff_habilitate_agents_and_keep_their_own_habilitation(client):
    demarche = DemarcheFactory(client_secret=SECRET)
    staff = staff_with(*EDITOR, username="tech")
    demarche.agents.add(staff)
    agent = UserFactory(username="agent-etat-civil")
    log_in(client, staff)

    response = change(client, demarche, agents=[staff.pk, agent.pk])

    assert response.status_code == 302, response.content.decode()
    assert set(demarche.agents.values_list("username", flat=True)) == {"tech", "agent-etat-civil"}


def test_staff_may_give_up_their_own_habilitation(client):
    demarche = DemarcheFactory(client_secret=SECRET)
    staff = staff_with(*EDITOR, username="tech")
    demarche.agents.add(staff)
    log_in(client, staff)

    response = change(client, demarche, agents=[])

    assert response.status_code == 302, response.content.decode()
    assert not demarche.agents.exists()


def test_a_superuser_may_habilitate_themselves(admin_client, admin_user):
    demarche = DemarcheFactory(client_secret=SECRET)

    response = change(admin_client, demarche, agents=[admin_user.pk])

    assert response.status_code == 302, response.content.decode()
    assert demarche.agents.filter(pk=admin_user.pk).exists()
