import logging

import pytest
import requests
import responses
from cryptography.fernet import Fernet
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
    assert "HubEE est injoignable (nom introuvable" in messages[0]
    assert "NameResolution" not in messages[0]
    assert not Demarche.objects.get(pk=demarche.pk).enabled


REMOTE_TEXT = "Apache/2.4.57 (Debian) Server at intranet.mairie.local Port 443"


@responses.activate
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": 503, "body": REMOTE_TEXT}, "HubEE est en erreur (HTTP 503) : réessayez"),
        ({"status": 429, "body": REMOTE_TEXT}, "HubEE limite les appels (HTTP 429)"),
        ({"status": 403, "body": REMOTE_TEXT}, "refusé la demande de jeton (HTTP 403)"),
        ({"status": 200, "json": {"motd": REMOTE_TEXT}}, "répondu sans jeton d'accès"),
        (
            {"status": 302, "headers": {"Location": "https://ailleurs.example/"}},
            "redirection (HTTP 302), que le portail ne suit pas",
        ),
        (
            {"body": requests.exceptions.SSLError(f"CERTIFICATE_VERIFY_FAILED {REMOTE_TEXT}")},
            "Le certificat TLS du serveur n'est pas reconnu",
        ),
        (
            {"body": requests.exceptions.ConnectTimeout(f"timed out {REMOTE_TEXT}")},
            "HubEE est injoignable",
        ),
    ],
)
def test_each_kind_of_error_has_its_message_and_the_detail_goes_to_the_log(
    admin_client, caplog, answer, expected
):
    caplog.set_level(logging.WARNING, logger="demarches")
    demarche = DemarcheFactory(enabled=False, client_secret=SECRET)
    responses.post(TOKEN_URL, **answer)

    messages, html = run_action(admin_client, demarche)

    assert expected in messages[0]
    assert "Apache" not in html
    assert not Demarche.objects.get(pk=demarche.pk).enabled
    assert f"démarche {demarche.pk} failed" in caplog.text
    if answer.get("status") not in (200, 302):
        assert REMOTE_TEXT in caplog.text  # for the IT person


def test_a_demarche_without_secret_is_not_tested(admin_client):
    demarche = DemarcheFactory(enabled=False)
    Demarche.objects.filter(pk=demarche.pk).update(client_secret_encrypted="")

    messages, _ = run_action(admin_client, demarche)

    assert "n'est pas enregistré, rien n'a été envoyé" in messages[0]
    assert not Demarche.objects.get(pk=demarche.pk).enabled


def test_a_secret_encrypted_with_another_key_is_explained(admin_client, settings):
    demarche = DemarcheFactory(enabled=False, client_secret=SECRET)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    messages, _ = run_action(admin_client, demarche)

    assert "ENCRYPTION_KEY" in messages[0]
