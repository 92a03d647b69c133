"""Deploy checks on where the portal sends HubEE secrets (`manage.py check --deploy`)."""

import pytest
from django.core import checks
from django.test import override_settings

from tests.factories import HubEEConnectionFactory

# Without the sandbox, ProConnect has no default (the fake's): off unless configured.
PRODUCTION = {"DEBUG": False, "HUBEE_SANDBOX": False, "PROCONNECT_ENABLED": False}


def deploy_check() -> str:
    """Our deploy checks' output (other apps' checks depend on the test process's environment);
    starts with FAILED when one of ours is an error, as `check --deploy` would then fail."""
    ours = [
        m for m in checks.run_checks(include_deployment_checks=True) if m.id.startswith("hubee_")
    ]
    failed = any(m.is_serious() for m in ours)
    return ("FAILED\n" if failed else "") + "\n".join(str(m) for m in ours)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("token_url", "api_url"),
    [
        # Saved while the sandbox was on (the demo), then the install went to production.
        ("http://127.0.0.1:8000/sandbox/oauth2/token", "http://127.0.0.1:8000/sandbox"),
        ("http://auth.hubee.numerique.gouv.fr/oauth2/token", "https://api.hubee.numerique.gouv.fr"),
        ("https://auth.hubee.numerique.gouv.fr/oauth2/token", "https://localhost/api"),
    ],
    ids=["sandbox-urls", "plain-http", "loopback"],
)
def test_check_deploy_fails_on_an_http_or_loopback_connection(token_url, api_url):
    connection = HubEEConnectionFactory(
        name="Démo", environment="autre", token_url=token_url, api_url=api_url
    )
    with override_settings(**PRODUCTION):
        output = deploy_check()
    assert output.startswith("FAILED")
    assert "hubee_portal.E002" in output
    assert f"« {connection.name} »" in output


@pytest.mark.django_db
def test_check_deploy_fails_even_with_the_sandbox_left_on():
    # The sandbox relaxes the URL rules; in production they apply all the same (E001 too).
    HubEEConnectionFactory(
        name="Démo",
        environment="autre",
        token_url="http://127.0.0.1:8000/sandbox/oauth2/token",
        api_url="http://127.0.0.1:8000/sandbox",
    )
    with override_settings(DEBUG=False, HUBEE_SANDBOX=True):
        output = deploy_check()
    assert "hubee_portal.E001" in output
    assert "hubee_portal.E002" in output


@pytest.mark.django_db
def test_check_deploy_accepts_hubee_connections():
    HubEEConnectionFactory()
    with override_settings(**PRODUCTION):
        output = deploy_check()
    assert not output.startswith("FAILED"), output
    assert "hubee_portal.E002" not in output


@pytest.mark.django_db
def test_development_keeps_its_sandbox_connections():
    HubEEConnectionFactory(
        name="Démo",
        environment="autre",
        token_url="http://127.0.0.1:8000/sandbox/oauth2/token",
        api_url="http://127.0.0.1:8000/sandbox",
    )
    with override_settings(DEBUG=True, HUBEE_SANDBOX=True):
        output = deploy_check()
    assert "hubee_portal.E002" not in output


@pytest.mark.django_db
def test_check_deploy_warns_on_any_host_allowed():
    HubEEConnectionFactory()
    with override_settings(**PRODUCTION, HUBEE_ALLOWED_HOSTS=["*"]):
        output = deploy_check()
    assert "hubee_portal.W001" in output
