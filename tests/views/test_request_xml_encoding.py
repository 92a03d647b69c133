"""Review finding: an XML flux declaring an encoding expat cannot use (« UTF-7 », or an unknown
name) makes the parser raise ValueError / LookupError, which xmlparse does not catch: the
dossier page (which reads « La demande » at every display) and the field view answer 500, so
no agent can open the dossier at all."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.models import PieceJointe
from dossiers.web.request import xmlparse
from tests.factories import agent_for
from tests.views.test_views_request import deposit

pytestmark = pytest.mark.django_db

HOSTILE = [
    b'<?xml version="1.0" encoding="UTF-7"?><Demande>+ADw-b+AD4-</Demande>',
    b'<?xml version="1.0" encoding="x-inconnu"?><Demande>b</Demande>',
]


@pytest.mark.parametrize("data", HOSTILE)
def test_an_unusable_encoding_is_unreadable_not_an_error(tmp_path, data):
    path = tmp_path / "flux.xml"
    path.write_bytes(data)
    with pytest.raises(xmlparse.UnreadableXml):
        xmlparse.parse(path)


@pytest.mark.parametrize("data", HOSTILE)
def test_the_dossier_page_opens_whatever_the_declared_encoding(client, data):
    dossier = deposit("EtatCivil", files=[("demande.xml", "application/xml", data)])
    client.force_login(agent_for(dossier.demarche))
    client.raise_request_exception = False
    assert client.get(reverse("dossiers:detail", args=[dossier.pk])).status_code == 200
    piece = PieceJointe.objects.get(dossier=dossier)
    fields_url = reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk])
    assert client.get(fields_url).status_code == 200
