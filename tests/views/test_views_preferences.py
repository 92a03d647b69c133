"""« Mes alertes »: each agent chooses none, an e-mail per news, or a daily digest."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from dossiers import tasks
from dossiers.models import AgentPreference, AuditEntry
from dossiers.operations import schedules
from dossiers.records import alerts
from hubee_portal.sandbox import services as sandbox
from tests.factories import DemarcheFactory, DossierFactory, EvenementFactory, agent_for

pytestmark = pytest.mark.django_db
URL = reverse("preferences")


def test_the_page_shows_my_choice_and_my_demarches(client):
    demarche = DemarcheFactory(name="Recensement citoyen")
    DemarcheFactory(name="Pas la mienne")
    client.force_login(agent_for(demarche, email="agent@mairie.fr"))
    page = client.get(URL).content.decode()
    assert re.search(r'<input type="radio" name="alert_mode" value="none"[^>]*checked', page)
    assert "Recensement citoyen" in page and "Pas la mienne" not in page


def test_changing_the_choice(client):
    agent = agent_for(DemarcheFactory(), email="agent@mairie.fr")
    client.force_login(agent)
    response = client.post(URL, {"alert_mode": "digest"}, follow=True)
    assert "Vos préférences sont enregistrées." in response.content.decode()
    assert AgentPreference.objects.get(user=agent).alert_mode == "digest"
    assert AuditEntry.objects.get(action="preferences").detail == "digest"
    assert client.post(URL, {"alert_mode": "souvent"}).status_code == 200  # invalid: form again
    assert AgentPreference.objects.get(user=agent).alert_mode == "digest"


def test_no_email_address_is_pointed_out(client):
    client.force_login(agent_for(DemarcheFactory(), email=""))
    assert "pas d'adresse électronique" in client.get(URL).content.decode()


def test_immediate_alerts_after_a_sync(portal, client):
    demarche = portal.demarche("EtatCivil", rules={"allows_messages": True}, allows_messages=True)
    other = portal.demarche("recensementCitoyen")
    wants = agent_for(demarche, email="immediat@mairie.fr")
    agent_for(demarche, email="rien@mairie.fr")  # keeps the default: none
    digest = agent_for(demarche, email="resume@mairie.fr")
    outsider = agent_for(other, email="autre@mairie.fr")
    alerts.set_alert_mode(wants, "immediate")
    alerts.set_alert_mode(digest, "digest")
    alerts.set_alert_mode(outsider, "immediate")

    case = portal.deposit(
        demarche, applicant={"firstName": "Camille", "lastName": "Confidentiel", "email": "c@ex.fr"}
    )
    tasks.sync_demarche_task(demarche.pk)
    assert [m.to for m in mail.outbox] == [["immediat@mairie.fr"]]
    message = mail.outbox[0]
    assert "1 nouveau dossier" in message.subject
    assert case.external_id in message.body
    assert "Confidentiel" not in message.body and "c@ex.fr" not in message.body
    assert "/dossiers/" in message.body

    # Nothing new: no second e-mail. A citizen's message: one more.
    tasks.sync_demarche_task(demarche.pk)
    assert len(mail.outbox) == 1
    sandbox.osl_message(case, "Voici ma réponse")
    tasks.sync_demarche_task(demarche.pk)
    assert len(mail.outbox) == 2
    assert "1 message d'usager" in mail.outbox[1].subject
    assert "Voici ma réponse" not in mail.outbox[1].body


def test_daily_digest(client):
    demarche = DemarcheFactory(name="Actes")
    agent = agent_for(demarche, email="resume@mairie.fr")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        alerts.set_alert_mode(agent, "digest")
    dossier = DossierFactory(
        demarche=demarche, received_at=start + timedelta(hours=2), status="SI_RECEIVED"
    )
    EvenementFactory(
        dossier=DossierFactory(demarche=demarche, received_at=start - timedelta(days=2))
    )
    with time_machine.travel(start + timedelta(hours=20), tick=False):
        assert tasks.send_daily_digest() == 1
        assert tasks.send_daily_digest() == 0  # never twice for the same window
    body = mail.outbox[0].body
    assert "Récapitulatif du jour" in mail.outbox[0].subject
    assert dossier.external_id in body
    assert "Dossiers à traiter" in body and "Actes : 2" in body


def test_a_failed_email_is_sent_at_the_next_run(monkeypatch):
    demarche = DemarcheFactory()
    agent = agent_for(demarche, email="a@mairie.fr")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        alerts.set_alert_mode(agent, "immediate")
    DossierFactory(demarche=demarche, received_at=start + timedelta(minutes=1))

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    with monkeypatch.context() as patch:
        patch.setattr(alerts, "send_mail", broken)
        assert alerts.send_immediate_alerts(start + timedelta(minutes=2)) == 0
    assert alerts.send_immediate_alerts(start + timedelta(minutes=3)) == 1
    assert len(mail.outbox) == 1


def test_choosing_alerts_does_not_send_old_news():
    demarche = DemarcheFactory()
    agent = agent_for(demarche, email="a@mairie.fr")
    DossierFactory(demarche=demarche, received_at=timezone.now() - timedelta(days=3))
    alerts.set_alert_mode(agent, "immediate")
    assert alerts.send_immediate_alerts() == 0


def test_the_digest_is_scheduled_daily():
    schedule = Schedule.objects.get(name=schedules.DIGEST_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("dossiers.tasks.send_daily_digest", "D")
