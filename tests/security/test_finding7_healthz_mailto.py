"""Finding 7: an anonymous /healthz tells only its status (details need the monitoring token or
a staff session), and HubEE's e-mail value becomes a mailto: link only when it is an address."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tests.factories import DossierFactory, agent_for, staff_with

pytestmark = pytest.mark.django_db

URL = reverse("healthz")
TOKEN = "jeton-de-supervision-0123456789"


def test_anonymous_callers_get_only_the_status(client, healthy):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        response = client.get(URL)
    assert response.status_code == 503  # same rules: the worker is silent
    assert response.json() == {"status": "error"}


def test_details_need_the_token_or_a_staff_session(client, healthy, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    detailed = client.get(URL, headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert detailed["demarches"][0]["id"] == healthy.pk
    for wrong in (f"Bearer {TOKEN}x", TOKEN, "Bearer ", f"Basic {TOKEN}"):
        assert client.get(URL, headers={"authorization": wrong}).json() == {"status": "ok"}
    # An agent's session is not enough; an administrateur technique's is.
    client.force_login(agent_for(healthy))
    assert client.get(URL).json() == {"status": "ok"}
    client.force_login(staff_with())
    assert client.get(URL).json()["demarches"][0]["id"] == healthy.pk


def test_an_empty_token_opens_nothing(client, healthy, settings):
    settings.HEALTHZ_TOKEN = ""
    for header in ("Bearer ", "Bearer"):
        assert client.get(URL, headers={"authorization": header}).json() == {"status": "ok"}


HOSTILE_EMAILS = [
    "x@y.fr?cc=espion@pirate.fr&body=Bonjour",
    "x?cc=espion@pirate.fr",  # a valid address for EmailValidator, a cc in a mailto:
    "x@y.fr#ancre",
    "pas une adresse",
]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_an_invalid_email_is_plain_text_never_a_mailto_link(client, email):
    dossier = DossierFactory(applicant_email=email)
    client.force_login(agent_for(dossier.demarche))
    response = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "mailto:" not in page
    assert response.context["d"].applicant_email == email
    assert escape(email) in page  # shown, as text


def test_a_valid_email_stays_a_link(client):
    dossier = DossierFactory(applicant_email="camille.martin+etat-civil@mairie-exemple.fr")
    client.force_login(agent_for(dossier.demarche))
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert 'href="mailto:camille.martin+etat-civil@mairie-exemple.fr"' in page
