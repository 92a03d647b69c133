"""Issue 11, finding 1's side effect (found in its review): a destination change clears the
démarches' secrets; the agents' decisions queued meanwhile burn their attempts on « secret
missing » and end FAILED, although nothing was sent and nothing was refused by HubEE.

"""

import pytest
from django_q.models import Schedule

from demarches.models import Demarche
from dossiers import tasks
from dossiers.enums import OutgoingState
from dossiers.models import OutgoingEvent
from tests.factories import DossierFactory

pytestmark = pytest.mark.django_db


def test_a_decision_waits_for_the_secret_instead_of_failing(settings):
    dossier = DossierFactory()
    decision = OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="DONE", author="Agent Martin"
    )
    # What services.disable_secrets does after a superuser changed the connection's URLs.
    Demarche.objects.filter(pk=dossier.demarche_id).update(
        client_secret_encrypted="", enabled=False
    )

    for _ in range(settings.HUBEE_OUTBOX_MAX_ATTEMPTS):  # the retries of the next ~45 minutes
        tasks.send_outgoing(dossier.pk)

    decision.refresh_from_db()
    assert decision.state == OutgoingState.PENDING, decision.last_error
    assert decision.attempts == 0
    assert "En attente" in decision.last_error
    assert not Schedule.objects.filter(name__endswith=f", dossier {dossier.pk}").exists()
