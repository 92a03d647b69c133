"""One vocabulary on screen (issue 21): a status reads the same, in the same colour, in the
sandbox and in the portal — the protocol's label, the portal's badge."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from dossiers.web.templatetags.portal import status_badge as portal_badge
from hubee_portal.hubee.vocabulary import CaseStatus
from hubee_portal.sandbox import services
from hubee_portal.sandbox.models import Case, Subscription
from tests.conftest import log_in
from tests.factories import AdminFactory, DossierFactory, agent_for
from tests.sandbox.helpers import etat_civil_files

pytestmark = pytest.mark.django_db

BADGE = re.compile(
    r'<span class="badge (\w+)">([^<]+?) <span class="muted">\((\w+)\)</span></span>'
)


def test_each_status_has_the_portals_word_and_colour_in_the_sandbox(
    subscription: Subscription,
) -> None:
    case = services.deposit_case(
        subscription, files=etat_civil_files(), applicant={"firstName": "A", "lastName": "B"}
    )
    staff = Client()
    log_in(staff, AdminFactory())
    for status in CaseStatus:
        Case.objects.filter(pk=case.pk).update(status=status.value)
        for url in (reverse("sandbox:osl-home"), reverse("sandbox:osl-case", args=[case.pk])):
            shown = BADGE.findall(staff.get(url).content.decode())
            css, word = re.match(
                r'<span class="badge (\w+)">(.+)</span>', portal_badge(status)
            ).groups()
            assert (css, word.replace("'", "&#x27;"), status.value) in shown, (status, url)


def test_the_portal_list_uses_the_same_badge() -> None:
    dossier = DossierFactory(status="SI_RECEIVED")
    client = Client()
    client.force_login(agent_for(dossier.demarche))
    page = client.get(reverse("dossiers:list")).content.decode()
    assert '<span class="badge todo">Reçu</span>' in page
    assert portal_badge("HUBEE_NOTIFIED") == '<span class="badge todo">Nouveau</span>'
