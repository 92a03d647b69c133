"""The error pages an agent may meet are French and say what to do (issue 16): none of
Django's English defaults (« Forbidden », « CSRF verification failed », « Server Error »)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.factories import DemarcheFactory, agent_for

pytestmark = pytest.mark.django_db
ENGLISH = re.compile(r"\b(Forbidden|CSRF|Server Error|Bad Request|error|failed|None)\b")


def test_an_expired_form_says_what_to_do():
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_for(DemarcheFactory()))
    response = client.post(reverse("sync-now"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Formulaire expiré" in page and "rechargez-la, puis recommencez" in page
    assert not ENGLISH.search(page)


@pytest.mark.parametrize(
    ("view", "status", "title"),
    [
        (defaults.server_error, 500, "Incident sur le portail"),
        (lambda request: defaults.bad_request(request, Exception("x")), 400, "Demande incorrecte"),
    ],
)
def test_server_and_bad_request_pages_are_french(view, status, title):
    response = view(RequestFactory().get("/"))
    assert response.status_code == status
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page and "prévenez l'administrateur" in page
    assert not ENGLISH.search(page) and "INVALID_TEMPLATE_VARIABLE" not in page
