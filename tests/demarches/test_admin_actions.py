"""The démarche actions of the admin need the change permission, not just a staff account."""

import pytest
import responses
from django.urls import reverse

from demarches.models import Demarche
from tests.conftest import log_in
from tests.factories import DemarcheFactory, staff_with

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token"
CHANGELIST = reverse("admin:demarches_demarche_changelist")
VIEW_ONLY = ("demarches.view_demarche", "dossiers.view_notificationfailure")


@pytest.mark.parametrize(
    ("action", "enabled"),
    [("enable", False), ("disable", True), ("test_connection", False)],
)
@responses.activate
def test_a_view_only_account_cannot_run_demarche_actions(client, action, enabled):
    demarche = DemarcheFactory(enabled=enabled)
    responses.post(TOKEN_URL, json={"access_token": "jeton", "expires_in": 3600})
    log_in(client, staff_with(*VIEW_ONLY))
    client.post(CHANGELIST, {"action": action, "_selected_action": [demarche.pk]})
    assert Demarche.objects.get(pk=demarche.pk).enabled is enabled
    assert not responses.calls  # the secret was not sent to the token URL either
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and demarche.process_code in page.content.decode()
    assert f'value="{action}"' not in page.content.decode()  # nor offered


@pytest.mark.parametrize(("action", "enabled"), [("enable", False), ("disable", True)])
def test_the_change_permission_runs_them(client, action, enabled):
    demarche = DemarcheFactory(enabled=enabled)
    log_in(client, staff_with("demarches.view_demarche", "demarches.change_demarche"))
    assert f'value="{action}"' in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": action, "_selected_action": [demarche.pk]})
    assert Demarche.objects.get(pk=demarche.pk).enabled is not enabled


def test_enable_leaves_a_demarche_without_secret_off(admin_client):
    ready = DemarcheFactory(enabled=False, client_id="pret")
    reset = DemarcheFactory(enabled=False, client_id="efface", name="Recensement")
    Demarche.objects.filter(pk=reset.pk).update(client_secret_encrypted="")

    response = admin_client.post(
        CHANGELIST,
        {"action": "enable", "_selected_action": [ready.pk, reset.pk]},
        follow=True,
    )

    assert Demarche.objects.get(pk=ready.pk).enabled
    assert not Demarche.objects.get(pk=reset.pk).enabled
    page = response.content.decode()
    assert "1 démarche(s) activée(s)." in page
    assert "faute de secret client" in page and "Recensement" in page
