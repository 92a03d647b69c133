"""Where a client secret may be sent: https to HubEE's hosts (or HUBEE_ALLOWED_HOSTS); http and
the loopback only while the sandbox is on. Checked on save and again before each use."""

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from demarches.enums import ENVIRONMENT_URLS
from demarches.hubee import DestinationRefusedError, check_connection, config_for
from demarches.models import HubEEConnection
from demarches.validators import hubee_url_problem
from dossiers.enums import RunFailure, RunStatus
from dossiers.exchange.inbound.listing import sync_demarche
from tests.factories import DemarcheFactory, HubEEConnectionFactory

HUBEE = "https://api.hubee.numerique.gouv.fr"

# (url, accepted with the sandbox off, accepted with the sandbox on)
CASES = [
    (HUBEE, True, True),
    ("https://auth.bas.hubee.numerique.gouv.fr/oauth2/token", True, True),
    ("https://API.HUBEE.numerique.gouv.fr./teledossiers/v1", True, True),
    ("http://api.hubee.numerique.gouv.fr", False, True),
    ("http://127.0.0.1:8000/sandbox", False, True),
    ("https://127.0.0.5/oauth2/token", False, True),
    ("http://localhost:8000/sandbox", False, True),
    ("http://[::1]:8000/sandbox", False, True),
    ("http://[::ffff:127.0.0.1]:8000/sandbox", False, True),
    ("https://10.1.2.3/oauth2/token", False, False),
    ("http://169.254.169.254/latest/meta-data", False, False),
    ("http://0.0.0.0:8000/", False, False),
    ("https://intranet.mairie.local/", False, False),
    ("https://hubee.numerique.gouv.fr/", False, False),
    ("https://api.hubee.numerique.gouv.fr.attaquant.example/", False, False),
    ("https://user:motdepasse@api.hubee.numerique.gouv.fr/", False, False),
    ("ftp://api.hubee.numerique.gouv.fr/", False, False),
    ("https://api.hubee.numerique.gouv.fr:99999/", False, False),
    ("api.hubee.numerique.gouv.fr", False, False),
    ("", False, False),
]


@pytest.mark.parametrize(("url", "off", "on"), CASES)
def test_policy_with_the_sandbox_off_and_on(settings, url, off, on):
    settings.HUBEE_SANDBOX = False
    assert (hubee_url_problem(url) is None) is off, hubee_url_problem(url)
    settings.HUBEE_SANDBOX = True
    assert (hubee_url_problem(url) is None) is on, hubee_url_problem(url)


def test_reasons_are_french_and_say_what_to_do(settings):
    settings.HUBEE_SANDBOX = False
    assert "https://" in hubee_url_problem("http://api.hubee.numerique.gouv.fr")
    assert "bac à sable" in hubee_url_problem("https://127.0.0.1/")
    assert "HUBEE_ALLOWED_HOSTS" in hubee_url_problem("https://intranet.mairie.local/")


def test_allowed_hosts_replace_hubees_own_and_match_subdomains(settings):
    settings.HUBEE_SANDBOX = False
    settings.HUBEE_ALLOWED_HOSTS = [".relais.mairie-exemple.fr"]
    assert hubee_url_problem("https://hubee.relais.mairie-exemple.fr/token") is None
    assert hubee_url_problem("https://relais.mairie-exemple.fr/token") is None
    assert hubee_url_problem(HUBEE) is not None
    assert hubee_url_problem("https://relais.mairie-exemple.fr.evil.example/") is not None


def test_default_allowed_hosts_are_hubees_environments(settings):
    hosts = {urlsplit(url).hostname for urls in ENVIRONMENT_URLS.values() for url in urls}
    # tests/settings.py adds the in-process sandbox's host.
    assert set(settings.HUBEE_ALLOWED_HOSTS) - {"sandbox.test"} == hosts


@pytest.mark.django_db
def test_connection_refuses_a_url_off_policy_in_french(settings):
    settings.HUBEE_SANDBOX = False
    connection = HubEEConnection(
        name="Relais",
        environment="autre",
        token_url="http://127.0.0.1:8000/oauth2/token",
        api_url="https://intranet.mairie.local",
    )
    with pytest.raises(ValidationError) as info:
        connection.full_clean()
    errors = info.value.message_dict
    assert errors["token_url"] == [
        "HubEE n'est joint qu'en https : l'URL doit commencer par https://."
    ]
    assert "n'est pas un serveur autorisé" in errors["api_url"][0]


@pytest.mark.django_db
def test_an_invalid_url_gets_one_message(settings):
    with pytest.raises(ValidationError) as info:
        HubEEConnection(
            name="x", environment="autre", token_url="pas une url", api_url=HUBEE
        ).full_clean()
    assert len(info.value.message_dict["token_url"]) == 1


@pytest.mark.django_db
def test_presets_and_the_sandbox_pass(settings):
    settings.HUBEE_SANDBOX = False
    HubEEConnection(name="Production", environment="production").full_clean()
    settings.HUBEE_SANDBOX = True
    HubEEConnection(
        name="Bac à sable",
        environment="autre",
        token_url="http://127.0.0.1:8000/sandbox/oauth2/token",
        api_url="http://127.0.0.1:8000/sandbox",
    ).full_clean()


@pytest.mark.django_db
def test_config_is_refused_before_any_request_when_the_policy_changed(settings):
    connection = HubEEConnectionFactory(
        name="Bac à sable",
        environment="autre",
        token_url="http://127.0.0.1:9/sandbox/oauth2/token",
        api_url="http://127.0.0.1:9/sandbox",
    )
    demarche = DemarcheFactory(connection=connection)
    config_for(demarche)  # the sandbox is on in the tests

    settings.HUBEE_SANDBOX = False
    with pytest.raises(DestinationRefusedError) as info:
        config_for(demarche)
    assert not info.value.transient
    assert "URL du jeton de la connexion « Bac à sable » refusée" in info.value.summary
    ok, message = check_connection(demarche)
    assert not ok
    assert message == info.value.summary


@pytest.mark.django_db
def test_sync_records_a_refused_destination(settings):
    connection = HubEEConnectionFactory(
        name="Bac à sable",
        environment="autre",
        token_url="http://127.0.0.1:9/sandbox/oauth2/token",
        api_url="http://127.0.0.1:9/sandbox",
    )
    demarche = DemarcheFactory(connection=connection)
    settings.HUBEE_SANDBOX = False

    outcome = sync_demarche(demarche)

    run = outcome.run
    assert run.status == RunStatus.FAILED
    assert run.failure_kind == RunFailure.HUBEE
    assert run.finished_at is not None
    assert "refusée, rien n'a été envoyé" in run.message
    assert outcome.connection_error == run.message


@pytest.mark.django_db
def test_sync_records_a_demarche_whose_secret_was_cleared():
    demarche = DemarcheFactory()
    demarche.client_secret_encrypted = ""  # enabled anyway, e.g. by the « Activer » action

    outcome = sync_demarche(demarche)

    assert outcome.run.status == RunStatus.FAILED
    assert "n'est pas enregistré, rien n'a été envoyé" in outcome.run.message
