import logging

import pytest
import requests
import responses
from cryptography.fernet import Fernet
from django.urls import reverse

from demarches.hubee import explain_connection_error
from demarches.models import Demarche
from hubee_portal.hubee import HubEEError, Reason
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


def _unreachable(kind):
    import socket

    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

    if kind == "dns":
        cause = NameResolutionError("auth.bas.hubee.numerique.gouv.fr", None, socket.gaierror())
    elif kind == "refused":
        cause = NewConnectionError(None, f"Failed to establish a new connection {REMOTE_TEXT}")
        cause.__cause__ = ConnectionRefusedError(111, "Connection refused")
    elif kind == "proxy":
        return requests.exceptions.ProxyError(f"Unable to connect to proxy {REMOTE_TEXT}")
    else:
        return requests.exceptions.ReadTimeout(f"read timed out {REMOTE_TEXT}")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", cause))


@responses.activate
@pytest.mark.parametrize("kind", ["dns", "refused", "proxy", "timeout"])
def test_unreachable_kinds_share_one_sentence_no_port_scan_oracle(admin_client, kind):
    demarche = DemarcheFactory(enabled=False, client_secret=SECRET)
    responses.post(TOKEN_URL, body=_unreachable(kind))

    messages, html = run_action(admin_client, demarche)

    # Word for word the same sentence whatever failed (the démarche's name before it).
    sentence = explain_connection_error(HubEEError("x", reason=Reason.DNS))
    assert sentence.startswith("HubEE est injoignable (nom introuvable, connexion refusée")
    assert messages[0].endswith(f" : {sentence}")
    assert "Apache" not in html
    assert not Demarche.objects.get(pk=demarche.pk).enabled


@pytest.mark.parametrize(
    ("reason", "status", "expected"),
    [
        (Reason.CREDENTIALS, 401, "Identifiants refusés par HubEE"),
        (Reason.SERVER, 502, "HubEE est en erreur (HTTP 502)"),
        (Reason.THROTTLED, 429, "HubEE limite les appels (HTTP 429)"),
        (Reason.NO_TOKEN, 200, "répondu sans jeton d'accès"),
        (Reason.FORBIDDEN, 403, "refusé la demande de jeton (HTTP 403)"),
        (Reason.HTTP_ERROR, 418, "refusé la demande de jeton (HTTP 418)"),
        (Reason.REDIRECT, 301, "redirection (HTTP 301)"),
        (Reason.TLS, None, "certificat TLS du serveur n'est pas reconnu"),
        (Reason.DNS, None, "HubEE est injoignable"),
        (Reason.UNEXPECTED, None, "Échec de la connexion à HubEE"),
    ],
)
def test_the_explanation_reads_the_reason_never_the_remote_text(reason, status, expected):
    # A bare HubEEError: the reason decides, not the class.
    error = HubEEError(
        f"whatever {REMOTE_TEXT}", status_code=status, hubee_message=REMOTE_TEXT, reason=reason
    )
    text = explain_connection_error(error)
    assert expected in text
    assert "Apache" not in text
    assert explain_connection_error(ValueError(REMOTE_TEXT)).startswith("Échec de la connexion")
