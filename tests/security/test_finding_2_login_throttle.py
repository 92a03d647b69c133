"""Issue 19, finding 2: rotating X-Forwarded-For must not give unlimited tries on an account."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from dossiers.records.access import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-de-test"
# 10:00 in Paris.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def login(client, username, password, address):
    """A login POST as gunicorn sees it when reached without the proxy: any header goes."""
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=address,
    )


def test_client_ip_trusts_only_the_configured_number_of_proxies(settings):
    settings.BEHIND_TLS_PROXY = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 5.6.7.8"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "5.6.7.8"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"
    # Fewer entries than proxies: not what the proxies send, so the header is ignored.
    settings.TRUSTED_PROXY_COUNT = 4
    assert client_ip(request) == "10.0.0.1"


def test_rotating_addresses_locks_the_account_for_the_cool_off_only(client, settings):
    settings.BEHIND_TLS_PROXY = True
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 10
    UserFactory(username="camille")
    UserFactory(username="dominique")
    with time_machine.travel(START, tick=False) as traveller:
        # Each address stays under the per-address limit (5): only the account limit can stop it.
        for n in range(9):
            assert login(client, "camille", "faux", f"203.0.113.{n}").status_code == 200
        # The tenth failure, as for the per-address limit, answers the lockout page.
        assert login(client, "camille", "faux", "203.0.113.9").status_code == 429
        # Locked from everywhere, even with the right password.
        response = login(client, "camille", PASSWORD, "198.51.100.7")
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        # Another account is not.
        assert login(client, "dominique", PASSWORD, "203.0.113.1").status_code == 302
        client.logout()
        # The attacker keeps trying during the lock: the lock does not grow.
        traveller.shift(timedelta(minutes=10))
        for n in range(10, 30):
            assert login(client, "camille", "faux", f"203.0.113.{n}").status_code == 429
        traveller.shift(timedelta(minutes=4, seconds=59))
        assert login(client, "camille", PASSWORD, "198.51.100.7").status_code == 429
        # The cool-off is over: the real user gets in.
        traveller.shift(timedelta(seconds=2))
        assert login(client, "camille", PASSWORD, "198.51.100.7").status_code == 302
        assert "_auth_user_id" in client.session


def test_the_lockout_page_says_when_to_retry(client, settings):
    UserFactory(username="camille")
    with time_machine.travel(START, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = login(client, "camille", "faux", "203.0.113.1")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Réessayez à partir de 10 h 15" in page
    assert "15 minutes" in page
