"""Issue 11, finding 2 (« staff sees all »), found in its review: what an administrateur
technique without habilitation on a démarche still reads of its dossiers, or grants themselves.

"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from dossiers.enums import FailureKind
from dossiers.models import NotificationFailure
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, UserFactory, staff_with

pytestmark = pytest.mark.django_db


def test_failure_texts_of_another_demarche_stay_hidden(client):
    # What ListingLoop._process_one records on a disk error (inbound/listing.py, `except
    # OSError`): the dossier's folder (its external id) and the citizen's file name.
    # retention._purge_one erases these texts for that reason.
    other = DossierFactory(demarche=DemarcheFactory(name="État civil"))
    path = f"{other.demarche.download_folder}/{other.folder_name}/passeport-DUPONT-Jeanne.pdf"
    failure = NotificationFailure.objects.create(
        demarche=other.demarche,
        notification_id="00000000-0000-0000-0000-000000000007",
        case_id=other.hubee_case_id,
        kind=FailureKind.LOCAL,
        error=f"Erreur disque : Permission denied ({path})",
    )
    # An administrateur technique who follows the failures, habilitated elsewhere only.
    staff = staff_with("dossiers.view_notificationfailure")
    DemarcheFactory(name="Recensement").agents.add(staff)
    log_in(client, staff)

    page = client.get(
        reverse("admin:dossiers_notificationfailure_change", args=[failure.pk])
    ).content.decode()

    assert "DUPONT" not in page
    assert other.external_id not in page
    assert str(other.hubee_case_id) not in page
    assert "Masqué" in page
    # Habilitated on the démarche, the same account reads it all.
    other.demarche.agents.add(staff)
    page = client.get(
        reverse("admin:dossiers_notificationfailure_change", args=[failure.pk])
    ).content.decode()
    assert "DUPONT" in page and str(other.hubee_case_id) in page


def test_a_group_editor_cannot_grant_themselves_every_dossier(client):
    # README, « Rôles »: an administrateur technique « ne peut pas s'habiliter lui-même ».
    other = DossierFactory(applicant_last_name="Secret")
    team = Group.objects.create(name="Équipe technique")
    staff = staff_with("auth.view_group", "auth.change_group")
    staff.groups.add(team)
    log_in(client, staff)
    view_all = Permission.objects.get(codename="view_all_dossiers")

    client.post(
        reverse("admin:auth_group_change", args=[team.pk]),
        {"name": team.name, "permissions": [view_all.pk]},
    )

    assert client.get(reverse("dossiers:detail", args=[other.pk])).status_code == 404


def test_a_user_editor_cannot_grant_themselves_rights(client):
    other = DossierFactory(applicant_last_name="Secret")
    staff = staff_with("auth.view_user", "auth.change_user")
    log_in(client, staff)
    view_all = Permission.objects.get(codename="view_all_dossiers")
    url = reverse("admin:auth_user_change", args=[staff.pk])

    client.post(
        url,
        {
            "username": staff.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": [view_all.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    staff.refresh_from_db()
    assert not staff.is_superuser
    assert not staff.user_permissions.filter(pk=view_all.pk).exists()
    assert client.get(reverse("dossiers:detail", args=[other.pk])).status_code == 404


def test_a_user_editor_cannot_take_over_a_superuser(client, admin_user):
    log_in(client, staff_with("auth.view_user", "auth.change_user"))

    client.post(
        reverse("admin:auth_user_password_change", args=[admin_user.pk]),
        {"password1": "pris-par-le-technicien-42", "password2": "pris-par-le-technicien-42"},
    )

    admin_user.refresh_from_db()
    assert not admin_user.check_password("pris-par-le-technicien-42")


def test_a_user_editor_still_manages_agents(client):
    staff = staff_with("auth.view_user", "auth.change_user", "auth.add_user")
    agent = UserFactory(username="agent-recensement")
    log_in(client, staff)

    response = client.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "first_name": "Camille",
            "email": "camille@mairie.example",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()
    agent.refresh_from_db()
    assert agent.first_name == "Camille"
