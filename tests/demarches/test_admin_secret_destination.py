"""Where a démarche's client secret is sent: only a superuser may change it (issue 11, #1).

The attacks below go through the admin exactly as a staff account would, against real HTTP
listeners on 127.0.0.1: what a listener receives is what would have leaked.
"""

import socket

import pytest
from django.urls import reverse

from demarches.models import Demarche, HubEEConnection
from tests.demarches.conftest import staff_with
from tests.factories import DemarcheFactory, HubEEConnectionFactory

pytestmark = [
    pytest.mark.django_db,
    # The connection form did not load under `filterwarnings = error` (Django 6's https
    # default); ignored here only so that the attack itself runs.
    pytest.mark.filterwarnings("ignore:The default scheme will be changed"),
]

SECRET = "secret-client-a-ne-jamais-divulguer"
REMOTE_MARKER = "BANNIERE-INTERNE-OpenSSH_9.2"
ATTACK = "issue 11 #1: the client secret's destination is open to any staff account"


def connection_to(server, name="Bac à sable local", **kwargs) -> HubEEConnection:
    return HubEEConnectionFactory(
        name=name,
        environment="autre",
        token_url=server.url("/oauth2/token"),
        api_url=server.url(""),
        **kwargs,
    )


def connection_form(connection: HubEEConnection, **overrides) -> dict:
    data = {
        "name": connection.name,
        "environment": connection.environment,
        "token_url": connection.token_url,
        "api_url": connection.api_url,
        "editor_name": connection.editor_name,
        "application_name": connection.application_name,
        "software_version": connection.software_version,
        "batch_size": connection.batch_size,
        "http_retries": connection.http_retries,
        "not_found_attempts": connection.not_found_attempts,
    }
    data.update(overrides)
    return data


def demarche_form(demarche: Demarche, **overrides) -> dict:
    data = {
        "name": demarche.name,
        "process_code": demarche.process_code,
        "organisation": demarche.organisation_id,
        "connection": demarche.connection_id,
        "client_id": demarche.client_id,
        "client_secret": "",
        "download_folder": demarche.download_folder,
        "automatic_status": demarche.automatic_status,
        "allow_done": "on",
        "allow_refused": "on",
        "automatic_final_status": "",
        "retention_months": demarche.retention_months,
    }
    if demarche.enabled:
        data["enabled"] = "on"
    data.update(overrides)
    return data


def change_connection(client, connection, **overrides):
    url = reverse("admin:demarches_hubeeconnection_change", args=[connection.pk])
    return client.post(url, connection_form(connection, **overrides))


def test_connection_action(client, demarche) -> list[str]:
    response = client.post(
        reverse("admin:demarches_demarche_changelist"),
        {"action": "test_connection", "_selected_action": [demarche.pk]},
        follow=True,
    )
    return [str(m) for m in response.context["messages"]]


test_connection_action.__test__ = False  # a helper, not a test


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.xfail(strict=True, reason=ATTACK)
def test_staff_cannot_send_the_secret_to_their_own_listener(client, listener):
    hubee = listener()
    thief = listener(status=404, body=b"")
    connection = connection_to(hubee)
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET, enabled=False)
    client.force_login(
        staff_with("view_demarche", "view_hubeeconnection", "change_hubeeconnection")
    )

    change_connection(
        client, connection, token_url=thief.url("/steal-token"), api_url=thief.url("")
    )
    test_connection_action(client, demarche)

    assert thief.received == []
    connection.refresh_from_db()
    assert connection.token_url == hubee.url("/oauth2/token")
    assert connection.api_url == hubee.url("")


@pytest.mark.xfail(strict=True, reason=ATTACK)
def test_staff_cannot_add_a_connection(client, listener):
    thief = listener()
    client.force_login(
        staff_with("view_hubeeconnection", "add_hubeeconnection", "change_hubeeconnection")
    )
    data = connection_form(
        HubEEConnection(name="Volée", environment="autre"),
        token_url=thief.url("/steal-token"),
        api_url=thief.url(""),
    )

    response = client.post(reverse("admin:demarches_hubeeconnection_add"), data)

    assert response.status_code == 403
    assert not HubEEConnection.objects.filter(name="Volée").exists()


@pytest.mark.xfail(strict=True, reason=ATTACK)
def test_staff_cannot_move_a_demarche_to_another_connection(client, listener):
    hubee, thief = listener(), listener()
    demarche = DemarcheFactory(connection=connection_to(hubee), client_secret=SECRET)
    other = connection_to(thief, name="Autre connexion")
    client.force_login(
        staff_with("view_demarche", "change_demarche", "view_hubeeconnection", username="tech2")
    )

    url = reverse("admin:demarches_demarche_change", args=[demarche.pk])
    client.post(url, demarche_form(demarche, connection=other.pk))

    demarche.refresh_from_db()
    assert demarche.connection_id != other.pk
    assert demarche.client_secret == SECRET


def test_connection_test_shows_no_remote_text(admin_client, listener):
    server = listener(status=403, body=f"<h1>{REMOTE_MARKER}</h1>".encode())
    demarche = DemarcheFactory(connection=connection_to(server), client_secret=SECRET)

    messages = test_connection_action(admin_client, demarche)

    assert len(server.received) == 1
    assert REMOTE_MARKER not in messages[0]


def test_connection_test_is_no_port_scan_oracle(admin_client):
    port = closed_port()
    connection = HubEEConnectionFactory(
        name="Port fermé",
        environment="autre",
        token_url=f"http://127.0.0.1:{port}/oauth2/token",
        api_url=f"http://127.0.0.1:{port}",
    )
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET)

    messages = test_connection_action(admin_client, demarche)

    assert "injoignable" in messages[0]
    for leak in ("refused", "Errno", str(port), "(détail"):
        assert leak not in messages[0]


def test_token_call_follows_no_redirect(admin_client, listener):
    elsewhere = listener()
    redirector = listener(status=307, body=b"", headers={"Location": elsewhere.url("/token")})
    demarche = DemarcheFactory(connection=connection_to(redirector), client_secret=SECRET)

    messages = test_connection_action(admin_client, demarche)

    assert len(redirector.received) == 1
    assert elsewhere.received == []
    assert "redirection" in messages[0]


@pytest.mark.xfail(strict=True, reason=ATTACK)
def test_superuser_changing_the_destination_disables_the_demarches_secrets(admin_client, listener):
    old, new = listener(), listener()
    connection = connection_to(old)
    moved = DemarcheFactory(connection=connection, client_secret=SECRET, enabled=True)
    untouched = DemarcheFactory(
        connection=HubEEConnectionFactory(), client_secret=SECRET, enabled=True
    )

    response = change_connection(
        admin_client, connection, token_url=new.url("/oauth2/token"), api_url=new.url("")
    )

    assert response.status_code == 302, response.content.decode()
    moved.refresh_from_db()
    untouched.refresh_from_db()
    assert moved.client_secret_encrypted == ""
    assert not moved.enabled
    assert untouched.client_secret == SECRET
    assert untouched.enabled
    # The sync leaves it alone until the secret is entered again: nothing reaches the new URL.
    test_connection_action(admin_client, moved)
    assert new.received == []


def test_production_refuses_plain_http_and_internal_hosts(admin_client, settings, listener):
    settings.HUBEE_SANDBOX = False
    thief = listener()
    connection = HubEEConnectionFactory()
    before = (connection.token_url, connection.api_url)

    for token_url in (
        thief.url("/steal-token"),
        f"https://127.0.0.1:{thief.url().rsplit(':', 1)[1]}/steal-token",
        "https://10.1.2.3/oauth2/token",
        "https://hubee.numerique.gouv.fr.attaquant.example/oauth2/token",
    ):
        response = change_connection(admin_client, connection, token_url=token_url)
        assert response.status_code == 200, token_url  # the form, with its error
        connection.refresh_from_db()
        assert (connection.token_url, connection.api_url) == before


def test_a_refused_url_already_stored_is_never_called(admin_client, settings, listener):
    # Saved while the sandbox was on (or written around the admin): refused at use time.
    thief = listener()
    demarche = DemarcheFactory(connection=connection_to(thief), client_secret=SECRET)
    settings.HUBEE_SANDBOX = False

    messages = test_connection_action(admin_client, demarche)

    assert thief.received == []
    assert "URL" in messages[0]
