"""Sessions end after SESSION_IDLE_TIMEOUT without activity and SESSION_COOKIE_AGE after the
login (issue 20); passwords have 12 characters at least."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from hubee_portal import idle_timeout
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(username="agent.veille"))
    return client


def test_idle_for_longer_than_the_timeout_logs_out_with_a_message(agent_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 8 * 3600
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=7, minutes=59)):
        assert agent_client.get("/").status_code == 200  # still there, and active again
    with time_machine.travel(start + timedelta(hours=15, minutes=58)):
        assert agent_client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(hours=24)):
        response = agent_client.get("/dossiers/")
        assert response["Location"] == "/connexion/?next=/dossiers/"
        page = agent_client.get(response["Location"]).content.decode()
    assert "Votre session a expiré" in page
    assert agent_client.get("/").status_code == 302  # logged out for good


def test_background_requests_do_not_keep_the_session_alive(agent_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 3600
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=50)):
        agent_client.get("/", headers={"Sec-Fetch-Mode": "cors"})  # a page's fetch
    with time_machine.travel(start + timedelta(minutes=70)):
        assert agent_client.get("/").status_code == 302


def test_last_activity_is_written_at_most_once_a_minute(agent_client):
    first = agent_client.session[idle_timeout.LAST_ACTIVITY]
    agent_client.get("/")
    assert agent_client.session[idle_timeout.LAST_ACTIVITY] == first
    with time_machine.travel(timezone.now() + timedelta(seconds=90)):
        agent_client.get("/")
    assert agent_client.session[idle_timeout.LAST_ACTIVITY] >= first + 90


def test_the_absolute_limit_holds_even_when_active(agent_client, settings):
    settings.SESSION_COOKIE_AGE = 4 * 3600
    start = timezone.now()
    for hours in (1, 2, 3):
        with time_machine.travel(start + timedelta(hours=hours)):
            assert agent_client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(hours=4, minutes=1)):
        assert agent_client.get("/").status_code == 302


def test_defaults_are_eight_hours_idle_and_two_weeks(settings):
    from hubee_portal import settings as portal_settings

    assert portal_settings.SESSION_IDLE_TIMEOUT == 8 * 3600
    assert portal_settings.SESSION_COOKIE_AGE == 14 * 24 * 3600


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="12 caractères"):
        validate_password("Kx9-mZ4qwp!")  # 11
    validate_password("Kx9-mZ4qwp!v")  # 12
