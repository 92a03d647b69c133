"""Where a démarche's client secret is sent: only a superuser may change it (issue 11, #1).

The attacks below go through the admin exactly as a staff account would, against real HTTP
listeners on 127.0.0.1: what a listener receives is what would have leaked.
"""

import socket

import pytest
from django.urls import reverse

from demarches.models import Demarche, HubEEConnection
from tests.conftest import log_in
from tests.factories import DemarcheFactory, HubEEConnectionFactory, staff_with

pytestmark = pytest.mark.django_db

SECRET = "secret-client-a-ne-jamais-divulguer"
REMOTE_MARKER = "BANNIERE-INTERNE-OpenSSH_9.2"


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


def run_test_action(client, demarche) -> list[str]:
    response = client.post(
        reverse("admin:demarches_demarche_changelist"),
        {"action": "test_connection", "_selected_action": [demarche.pk]},
        follow=True,
    )
    return [str(m) for m in response.context["messages"]]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_staff_cannot_send_the_secret_to_their_own_listener(client, listener):
    hubee = listener()
    thief = listener(status=404, body=b"")
    connection = connection_to(hubee)
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET, enabled=False)
    log_in(
        client,
        staff_with(
            "demarches.view_demarche",
            "demarches.view_hubeeconnection",
            "demarches.change_hubeeconnection",
        ),
    )

    change_connection(
        client, connection, token_url=thief.url("/steal-token"), api_url=thief.url("")
    )
    run_test_action(client, demarche)

    assert thief.received == []
    connection.refresh_from_db()
    assert connection.token_url == hubee.url("/oauth2/token")
    assert connection.api_url == hubee.url("")


def test_staff_cannot_add_a_connection(client, listener):
    thief = listener()
    log_in(
        client,
        staff_with(
            "demarches.view_hubeeconnection",
            "demarches.add_hubeeconnection",
            "demarches.change_hubeeconnection",
        ),
    )
    data = connection_form(
        HubEEConnection(name="Volée", environment="autre"),
        token_url=thief.url("/steal-token"),
        api_url=thief.url(""),
    )

    response = client.post(reverse("admin:demarches_hubeeconnection_add"), data)

    assert response.status_code == 403
    assert not HubEEConnection.objects.filter(name="Volée").exists()


def test_staff_cannot_move_a_demarche_to_another_connection(client, listener):
    hubee, thief = listener(), listener()
    demarche = DemarcheFactory(connection=connection_to(hubee), client_secret=SECRET)
    other = connection_to(thief, name="Autre connexion")
    log_in(
        client,
        staff_with(
            "demarches.view_demarche",
            "demarches.change_demarche",
            "demarches.view_hubeeconnection",
            username="tech2",
        ),
    )

    url = reverse("admin:demarches_demarche_change", args=[demarche.pk])
    client.post(url, demarche_form(demarche, connection=other.pk))

    demarche.refresh_from_db()
    assert demarche.connection_id != other.pk
    assert demarche.client_secret == SECRET


def test_connection_test_shows_no_remote_text(admin_client, listener):
    server = listener(status=403, body=f"<h1>{REMOTE_MARKER}</h1>".encode())
    demarche = DemarcheFactory(connection=connection_to(server), client_secret=SECRET)

    messages = run_test_action(admin_client, demarche)

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

    messages = run_test_action(admin_client, demarche)

    assert "injoignable" in messages[0]
    for leak in ("refused", "Errno", str(port), "(détail"):
        assert leak not in messages[0]


def test_token_call_follows_no_redirect(admin_client, listener):
    elsewhere = listener()
    redirector = listener(status=307, body=b"", headers={"Location": elsewhere.url("/token")})
    demarche = DemarcheFactory(connection=connection_to(redirector), client_secret=SECRET)

    messages = run_test_action(admin_client, demarche)

    assert len(redirector.received) == 1
    assert elsewhere.received == []
    assert "redirection" in messages[0]


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
    run_test_action(admin_client, moved)
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

    messages = run_test_action(admin_client, demarche)

    assert thief.received == []
    assert "URL" in messages[0]


# -- what each role may still do ---------------------------------------------------------------


def test_staff_see_the_urls_read_only_and_may_change_the_rest(client, listener):
    hubee = listener()
    connection = connection_to(hubee)
    log_in(
        client,
        staff_with(
            "demarches.view_demarche",
            "demarches.view_hubeeconnection",
            "demarches.change_hubeeconnection",
        ),
    )
    url = reverse("admin:demarches_hubeeconnection_change", args=[connection.pk])

    html = client.get(url).content.decode()
    for name in ("token_url", "api_url", "environment"):
        assert f'name="{name}"' not in html
    assert hubee.url("/oauth2/token") in html  # shown, not editable
    assert 'name="batch_size"' in html

    response = client.post(url, connection_form(connection, batch_size=50))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.batch_size == 50
    assert (
        reverse("admin:demarches_hubeeconnection_add")
        not in client.get(reverse("admin:demarches_hubeeconnection_changelist")).content.decode()
    )


def test_staff_may_create_a_demarche_on_an_existing_connection(client, listener, tmp_path):
    # They type the secret themselves, and it goes where a superuser said.
    connection = connection_to(listener())
    template = DemarcheFactory.build(connection=connection, organisation=None)
    organisation = DemarcheFactory(connection=connection).organisation
    log_in(
        client,
        staff_with(
            "demarches.view_demarche", "demarches.add_demarche", "demarches.view_hubeeconnection"
        ),
    )
    data = demarche_form(
        template,
        organisation=organisation.pk,
        client_id="client-nouveau",
        client_secret="secret-saisi-par-le-technicien",
        download_folder=str(tmp_path / "nouvelle"),
    )

    response = client.post(reverse("admin:demarches_demarche_add"), data)

    assert response.status_code == 302, response.content.decode()
    created = Demarche.objects.get(client_id="client-nouveau")
    assert created.connection == connection
    assert created.client_secret == "secret-saisi-par-le-technicien"


def test_staff_may_still_edit_a_demarche_without_moving_it(client, listener):
    demarche = DemarcheFactory(connection=connection_to(listener()), client_secret=SECRET)
    log_in(
        client,
        staff_with(
            "demarches.view_demarche", "demarches.change_demarche", "demarches.view_hubeeconnection"
        ),
    )
    url = reverse("admin:demarches_demarche_change", args=[demarche.pk])

    assert 'name="connection"' not in client.get(url).content.decode()
    response = client.post(url, demarche_form(demarche, name="Nouveau nom"))

    assert response.status_code == 302, response.content.decode()
    demarche.refresh_from_db()
    assert demarche.name == "Nouveau nom"
    assert demarche.client_secret == SECRET
    assert demarche.enabled


def test_save_model_refuses_a_staff_destination_change_however_it_comes(rf, listener):
    from django.contrib.admin.sites import site
    from django.core.exceptions import PermissionDenied

    connection = connection_to(listener())
    request = rf.post("/")
    request.user = staff_with("demarches.view_hubeeconnection", "demarches.change_hubeeconnection")
    model_admin = site._registry[HubEEConnection]
    connection.token_url = "http://127.0.0.1:1/steal-token"

    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, connection, form=None, change=True)
    connection.refresh_from_db()
    assert connection.token_url != "http://127.0.0.1:1/steal-token"


# -- a superuser's change ----------------------------------------------------------------------


def test_superuser_is_told_which_demarches_need_their_secret_and_the_change_is_logged(
    admin_client, listener, caplog
):
    old, new = listener(), listener()
    connection = connection_to(old)
    first = DemarcheFactory(connection=connection, name="Recensement", client_secret=SECRET)
    second = DemarcheFactory(connection=connection, name="État civil", client_secret=SECRET)

    response = change_connection(
        admin_client, connection, token_url=new.url("/oauth2/token"), api_url=new.url("")
    )

    assert response.status_code == 302, response.content.decode()
    page = admin_client.get(response["Location"])
    (warning,) = [str(m) for m in page.context["messages"] if m.level_tag == "warning"]
    assert f"« {first} »" in warning and f"« {second} »" in warning
    assert "saisissez à nouveau le secret client" in warning
    assert "« Tester la connexion (et activer si elle réussit) »" in warning
    # The logs and the admin history say old → new.
    expected = f"URL du jeton : {old.url('/oauth2/token')} → {new.url('/oauth2/token')}"
    record = next(r for r in caplog.records if r.name == "demarches.services")
    assert record.levelname == "WARNING"
    assert expected in record.getMessage()
    assert f"URL de l'API : {old.url('')} → {new.url('')}" in record.getMessage()
    history = admin_client.get(
        reverse("admin:demarches_hubeeconnection_history", args=[connection.pk])
    ).content.decode()
    assert expected in history.replace("&#x27;", "'")
    assert SECRET not in caplog.text


def test_superuser_changing_other_fields_keeps_the_secrets(admin_client, listener):
    connection = connection_to(listener())
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET)

    response = change_connection(admin_client, connection, batch_size=40)

    assert response.status_code == 302, response.content.decode()
    demarche.refresh_from_db()
    assert demarche.client_secret == SECRET
    assert demarche.enabled


def test_a_preset_environment_change_moves_the_secrets_too(admin_client):
    connection = HubEEConnectionFactory()  # preproduction
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET)

    response = change_connection(
        admin_client, connection, environment="production", token_url="", api_url=""
    )

    assert response.status_code == 302, response.content.decode()
    connection.refresh_from_db()
    assert connection.api_url == "https://api.hubee.numerique.gouv.fr"
    demarche.refresh_from_db()
    assert demarche.client_secret_encrypted == ""
    assert not demarche.enabled


def test_superuser_moving_a_demarche_clears_its_secret_unless_typed_again(admin_client, listener):
    hubee, other = listener(), listener()
    target = connection_to(other, name="Autre connexion")
    kept = DemarcheFactory(connection=connection_to(hubee), client_secret=SECRET)
    retyped = DemarcheFactory(connection=kept.connection, client_secret=SECRET)

    for demarche, secret in ((kept, ""), (retyped, "nouveau-secret-de-la-connexion")):
        url = reverse("admin:demarches_demarche_change", args=[demarche.pk])
        data = demarche_form(demarche, connection=target.pk, client_secret=secret)
        response = admin_client.post(url, data, follow=True)
        assert response.status_code == 200
        demarche.refresh_from_db()
        assert demarche.connection == target

    assert kept.client_secret_encrypted == ""
    assert not kept.enabled
    assert retyped.client_secret == "nouveau-secret-de-la-connexion"
    assert retyped.enabled
    history = admin_client.get(
        reverse("admin:demarches_demarche_history", args=[kept.pk])
    ).content.decode()
    assert "Connexion HubEE : Bac à sable local → Autre connexion" in history
    # Until its secret is entered again, nothing is sent for it.
    run_test_action(admin_client, kept)
    assert other.received == []


def test_superuser_adds_a_connection_and_the_history_says_its_urls(admin_client, caplog):
    data = connection_form(
        HubEEConnection(name="Production", environment="production"), token_url="", api_url=""
    )

    response = admin_client.post(reverse("admin:demarches_hubeeconnection_add"), data)

    assert response.status_code == 302, response.content.decode()
    connection = HubEEConnection.objects.get(name="Production")
    assert connection.token_url == "https://auth.hubee.numerique.gouv.fr/oauth2/token"
    assert "https://api.hubee.numerique.gouv.fr" in caplog.text
