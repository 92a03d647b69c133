"""An agent on one admin page with their démarches, invited by e-mail to choose a password."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from tests.conftest import log_in
from tests.factories import AdminFactory, DemarcheFactory, DossierFactory, UserFactory, staff_with

pytestmark = pytest.mark.django_db

User = get_user_model()
NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # a Friday, 16:30 in Paris
CREATOR = ("auth.view_user", "auth.add_user", "auth.change_user")
HABILITATOR = (*CREATOR, "demarches.view_demarche", "demarches.change_demarche")


def new_agent(**overrides):
    data = {
        "username": "c.martin",
        "first_name": "Camille",
        "last_name": "Martin",
        "email": "c.martin@mairie.fr",
    }
    data.update(overrides)
    return data


def change_data(username: str, **overrides):
    """What the change page posts (its required fields)."""
    data = {
        **new_agent(username=username),
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return data


def link_in(message) -> str:
    return re.search(r"https?://\S+/mot-de-passe/\S+/", message.body).group(0)


def test_the_add_page_asks_no_password_and_lists_the_demarches(admin_client):
    DemarcheFactory(name="Recensement citoyen")
    html = admin_client.get(reverse("admin:auth_user_add")).content.decode()
    assert 'type="password"' not in html
    assert "Démarches (habilitations)" in html
    assert "Recensement citoyen" in html
    assert 'type="checkbox" name="habilitations"' in html


def test_creating_an_agent_invites_them(admin_client, django_capture_on_commit_callbacks, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
    etat_civil, recensement, _ = (
        DemarcheFactory(name=name) for name in ("État civil", "Recensement", "Urbanisme")
    )
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            reverse("admin:auth_user_add"),
            new_agent(habilitations=[etat_civil.pk, recensement.pk]),
            follow=True,
        )
    agent = User.objects.get(username="c.martin")
    assert not agent.has_usable_password()
    assert set(agent.demarches.values_list("name", flat=True)) == {"État civil", "Recensement"}
    [message] = mail.outbox
    assert message.to == ["c.martin@mairie.fr"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == (
        "[DÉMONSTRATION] Votre compte sur Commune de Nice — Portail de réception HubEE : "
        "choisissez votre mot de passe"
    )
    assert "Votre identifiant : c.martin" in message.body
    assert "Vos démarches : Recensement, État civil" in message.body
    assert "jusqu'au 07/12/2026 à 16:30" in message.body
    # The page's « Invitation envoyée … » message is read in test_browser_invitation: here
    # the commit callbacks run after the response.
    assert response.status_code == 200
    # The link opens the page that sets the password, once.
    client = admin_client.__class__()
    with time_machine.travel(NOW, tick=False):
        opened = client.get(link_in(message), follow=True)
        assert "Choisir votre mot de passe" in opened.content.decode()
        form_url = opened.redirect_chain[-1][0]
        done = client.post(
            form_url,
            {"new_password1": "Bonne-phrase-42!", "new_password2": "Bonne-phrase-42!"},
        )
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")
    agent.refresh_from_db()
    assert agent.check_password("Bonne-phrase-42!")
    with time_machine.travel(NOW, tick=False):
        again = client.get(link_in(message), follow=True).content.decode()
    assert "Lien expiré ou déjà utilisé" in again


def test_the_link_expires_after_password_reset_timeout(client, settings):
    from demarches.invitations import invite

    settings.PASSWORD_RESET_TIMEOUT = 3600
    agent = UserFactory(username="tardif", email="tardif@mairie.fr")
    agent.set_unusable_password()
    agent.save()
    with time_machine.travel(NOW, tick=False):
        invite(agent)
    assert "jusqu'au 04/12/2026 à 17:30" in mail.outbox[0].body
    with time_machine.travel(datetime(2026, 12, 4, 16, 31, tzinfo=UTC), tick=False):
        page = client.get(link_in(mail.outbox[0]), follow=True).content.decode()
    assert "Lien expiré ou déjà utilisé" in page


def test_an_email_is_required(admin_client):
    response = admin_client.post(reverse("admin:auth_user_add"), new_agent(email=""))
    assert response.status_code == 200
    assert "Indiquez l&#x27;adresse électronique de l&#x27;agent" in response.content.decode()
    assert not User.objects.filter(username="c.martin").exists()


def test_non_superuser_staff_create_agents_with_demarches_but_grant_no_rights(
    client, django_capture_on_commit_callbacks
):
    demarche = DemarcheFactory(name="État civil")
    staff = staff_with(*HABILITATOR, username="tech")
    log_in(client, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:auth_user_add"),
            new_agent(habilitations=[demarche.pk], is_superuser="on"),
        )
    assert response.status_code == 302, response.content.decode()
    agent = User.objects.get(username="c.martin")
    assert list(agent.demarches.all()) == [demarche]
    assert not agent.is_superuser
    assert len(mail.outbox) == 1
    # On the change page, the rights stay out of reach.
    group = Group.objects.create(name="Tout")
    url = reverse("admin:auth_user_change", args=[agent.pk])
    response = client.post(
        url, change_data("c.martin", is_superuser="on", groups=[group.pk], habilitations=[])
    )
    assert response.status_code == 302, response.content.decode()
    agent.refresh_from_db()
    assert not agent.is_superuser
    assert not agent.groups.exists()
    assert not agent.demarches.exists()
    # Nor does this page touch a superuser's account.
    boss = AdminFactory(username="chef")
    boss_url = reverse("admin:auth_user_change", args=[boss.pk])
    page = client.get(boss_url).content.decode()
    assert 'name="habilitations"' not in page  # shown read-only at most
    response = client.post(boss_url, change_data("chef", habilitations=[demarche.pk]))
    assert response.status_code == 403
    assert not boss.demarches.exists()


def test_staff_without_change_demarche_see_the_demarches_read_only(client):
    demarche = DemarcheFactory(name="État civil")
    agent = UserFactory(username="agent")
    demarche.agents.add(agent)
    staff = staff_with(*CREATOR, username="tech")
    log_in(client, staff)
    url = reverse("admin:auth_user_change", args=[agent.pk])
    assert 'name="habilitations"' not in client.get(url).content.decode()
    response = client.post(url, change_data("agent"))
    assert response.status_code == 302, response.content.decode()
    assert list(agent.demarches.all()) == [demarche]


def test_staff_cannot_habilitate_themselves_here_either(client):
    demarche = DemarcheFactory(name="État civil")
    staff = staff_with(*HABILITATOR, username="tech", email="tech@mairie.fr")
    log_in(client, staff)
    url = reverse("admin:auth_user_change", args=[staff.pk])
    response = client.post(url, change_data("tech", is_staff="on", habilitations=[demarche.pk]))
    assert response.status_code == 200
    assert "Vous ne pouvez pas vous habiliter vous-même" in response.content.decode()
    assert not staff.demarches.exists()


def test_removing_a_demarche_here_releases_the_agents_dossiers(admin_client):
    kept, lost = DemarcheFactory(name="Gardée"), DemarcheFactory(name="Retirée")
    agent = UserFactory(username="agent", email="a@mairie.fr")
    kept.agents.add(agent)
    lost.agents.add(agent)
    dossier = DossierFactory(demarche=lost, assigned_to=agent)
    url = reverse("admin:auth_user_change", args=[agent.pk])
    response = admin_client.post(url, change_data("agent", habilitations=[kept.pk]))
    assert response.status_code == 302, response.content.decode()
    assert list(agent.demarches.all()) == [kept]
    dossier.refresh_from_db()
    assert dossier.assigned_to is None


def test_resend_the_invitation_action(admin_client):
    agent = UserFactory(username="agent", email="agent@mairie.fr")
    silent = UserFactory(username="sans-adresse", email="")
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "send_invitation", "_selected_action": [agent.pk, silent.pk]},
        follow=True,
    )
    assert [m.to for m in mail.outbox] == [["agent@mairie.fr"]]
    page = response.content.decode()
    assert "Invitation envoyée à agent@mairie.fr" in page
    assert "1 compte(s) sans invitation" in page
    assert (
        "Renvoyer l&#x27;invitation"
        in admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    )


def test_a_mail_server_failure_is_told_not_raised(admin_client, settings):
    settings.EMAIL_BACKEND = "tests.demarches.test_admin_agents_invitation.BrokenBackend"
    agent = UserFactory(username="agent", email="agent@mairie.fr")
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "send_invitation", "_selected_action": [agent.pk]},
        follow=True,
    )
    assert "L&#x27;invitation n&#x27;a pas pu être envoyée à agent@mairie.fr" in (
        response.content.decode()
    )


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP injoignable")


def test_forgotten_password_says_the_same_whether_the_address_exists(client):
    UserFactory(username="agent", email="agent@mairie.fr")
    known = client.post(reverse("password_reset"), {"email": "agent@mairie.fr"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "personne@mairie.fr"}, follow=True)
    assert known.content == unknown.content
    assert "Consultez votre messagerie" in known.content.decode()
    [message] = mail.outbox
    assert message.to == ["agent@mairie.fr"]
    assert message.subject == (
        "[DÉMONSTRATION] Portail de réception HubEE : choisissez un nouveau mot de passe"
    )
    assert "/mot-de-passe/" in message.body


def test_an_invited_agent_whose_link_expired_can_ask_a_new_one(client):
    agent = UserFactory(username="invite", email="invite@mairie.fr")
    agent.set_unusable_password()
    agent.save()
    client.post(reverse("password_reset"), {"email": "invite@mairie.fr"})
    assert [m.to for m in mail.outbox] == [["invite@mairie.fr"]]


def test_password_forms_link_their_errors_to_the_fields(client):
    response = client.post(reverse("password_reset"), {"email": "pas-une-adresse"})
    html = response.content.decode()
    assert 'aria-describedby="id_email_error"' in html
    assert 'id="id_email_error"' in html
    assert "Indiquez une adresse électronique valide" in html
    assert "<title>Erreur : Mot de passe oublié — Portail de réception HubEE</title>" in html


def test_the_login_page_offers_forgotten_password(client):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}">Mot de passe oublié ?</a>' in html
