import pytest
import requests
import responses
from django.urls import reverse

from demarches.models import Demarche
from tests.factories import DemarcheFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token"
SECRET = "secret-a-ne-jamais-afficher"


def run_action(admin_client, demarche):
    response = admin_client.post(
        reverse("admin:demarches_demarche_changelist"),
        {"action": "test_connection", "_selected_action": [demarche.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]], response.content.decode()


@responses.activate
def test_successful_connection_test_enables_the_demarche(admin_client):
    demarche = DemarcheFactory(enabled=False, client_secret=SECRET)
    responses.post(TOKEN_URL, json={"access_token": "jeton", "expires_in": 3600})
    messages, html = run_action(admin_client, demarche)
    assert "Connexion réussie" in messages[0]
    assert "maintenant active" in messages[0]
    assert Demarche.objects.get(pk=demarche.pk).enabled
    # The token request carried the démarche's credentials (Basic auth, form body).
    request = responses.calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "grant_type=client_credentials" in request.body
    assert SECRET not in html


@responses.activate
def test_rejected_credentials_are_explained_in_french(admin_client):
    demarche = DemarcheFactory(enabled=False, client_secret=SECRET)
    responses.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    messages, html = run_action(admin_client, demarche)
    assert "Identifiants refusés par HubEE" in messages[0]
    assert not Demarche.objects.get(pk=demarche.pk).enabled
    assert SECRET not in html


@responses.activate
def test_unreachable_dns_is_explained(admin_client, settings):
    demarche = DemarcheFactory(enabled=False)
    responses.post(
        TOKEN_URL,
        body=requests.exceptions.ConnectionError(
            "Failed to resolve 'auth.bas.hubee.numerique.gouv.fr' (NameResolutionError)"
        ),
    )
    messages, _ = run_action(admin_client, demarche)
    assert "Nom de serveur introuvable (DNS)" in messages[0]
    assert not Demarche.objects.get(pk=demarche.pk).enabled
