"""The admin's French agrees with the model's gender (demarches.admin_wording), and the
libraries' sections have French names (dossiers.admin_libraries)."""

import html

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext
from django_q.models import Failure, Schedule

from demarches.admin_wording import FEMININE, Noun, reword
from demarches.models import Demarche, Organisation
from tests.conftest import log_in
from tests.demarches.test_admin_demarches import form_data
from tests.factories import DemarcheFactory, OrganisationFactory, staff_with

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_titles_and_buttons_agree_with_the_gender(admin_client):
    organisation = OrganisationFactory(name="Commune de Nice")
    demarche = DemarcheFactory(organisation=organisation)
    add = text(admin_client.get(reverse("admin:demarches_demarche_add")))
    assert "<title>Ajout d'une démarche | Commune de Nice</title>" in add
    assert "<h1>Ajout d'une démarche</h1>" in add
    change = text(
        admin_client.get(reverse("admin:demarches_organisation_change", args=[organisation.pk]))
    )
    assert "<h1>Modification de l'organisation</h1>" in change
    assert "Modification de organisation" not in change
    listing = text(admin_client.get(reverse("admin:demarches_demarche_changelist")))
    assert "<h1>Choisissez la démarche à modifier</h1>" in listing
    assert "Ajouter une démarche" in listing
    assert (
        '<option value="delete_selected">Supprimer les démarches sélectionnées</option>' in listing
    )
    assert "sélectionnés" not in listing
    connection = text(
        admin_client.get(
            reverse("admin:demarches_hubeeconnection_change", args=[demarche.connection_id])
        )
    )
    assert "<h1>Modification de la connexion HubEE</h1>" in connection
    user = text(admin_client.get(reverse("admin:auth_user_add")))
    assert "<h1>Ajout d'un utilisateur</h1>" in user
    dossiers = text(admin_client.get(reverse("admin:dossiers_dossier_changelist")))
    assert "<h1>Choisissez le dossier à consulter</h1>" in dossiers


def test_save_and_delete_messages_agree_with_the_gender(admin_client, tmp_path):
    response = admin_client.post(
        reverse("admin:demarches_demarche_add"),
        form_data(download_folder=str(tmp_path / "ec"), name="Actes d'état civil"),
        follow=True,
    )
    page = text(response)
    link = reverse("admin:demarches_demarche_change", args=[Demarche.objects.get().pk])
    assert (
        f'La démarche « <a href="{link}">Actes d\'état civil (EtatCivil)</a> » a été ajoutée '
        "avec succès."
    ) in page
    assert "L'objet" not in page
    demarche = Demarche.objects.get()
    organisation = Organisation.objects.create(name="Commune de Menton", siret="21060083700017")
    response = admin_client.post(
        reverse("admin:demarches_organisation_change", args=[organisation.pk]),
        {
            "name": "Ville de Menton",
            "siret": organisation.siret,
            "code_guichet": "",
            "_continue": "1",
        },
        follow=True,
    )
    link = reverse("admin:demarches_organisation_change", args=[organisation.pk])
    assert (
        f'L\'organisation « <a href="{link}">Ville de Menton (21060083700017)</a> » a été '
        "modifiée avec succès. Vous pouvez la modifier à nouveau ci-dessous."
    ) in text(response)
    response = admin_client.post(
        reverse("admin:demarches_demarche_changelist"),
        {"action": "delete_selected", "_selected_action": [demarche.pk], "post": "yes"},
        follow=True,
    )
    assert "1 démarche supprimée avec succès." in text(response)
    assert not Demarche.objects.exists()


def django_says(msgid: str, **values) -> str:
    """Django's own French message (its translation, typographic spaces included)."""
    return gettext(msgid).format(**values) if "{" in msgid else gettext(msgid) % values


def test_reword_knows_each_gender_and_number():
    demarche = Noun("démarche", "démarches", feminine=True)
    dossier = Noun("dossier", "dossiers", feminine=False)
    incident = Noun("incident", "incidents", feminine=False)
    deleted = "Successfully deleted %(count)d %(items)s."
    changed = "The {name} “{obj}” was changed successfully."
    added = "The {name} “{obj}” was added successfully."
    assert reword(django_says(deleted, count=3, items="démarches"), demarche) == (
        "3 démarches supprimées avec succès."
    )
    assert reword(django_says(deleted, count=2, items="dossiers"), dossier) == (
        "2 dossiers supprimés avec succès."
    )
    assert html.unescape(reword(django_says(changed, name="incident", obj="X"), incident)) == (
        "L'incident « X » a été modifié avec succès."
    )
    assert str(reword(django_says(added, name="dossier", obj="<b>"), dossier)) == (
        "Le dossier « &lt;b&gt; » a été ajouté avec succès."  # a plain text is escaped
    )
    assert reword("Invitation envoyée.", dossier) == "Invitation envoyée."
    assert demarche.of_the == "de la démarche" and incident.of_the == "de l'incident"
    assert dossier.of_the == "du dossier"


def test_every_feminine_model_is_registered_and_named():
    registered = {model._meta.label_lower: model for model in admin.site._registry}
    assert set(registered) >= FEMININE, FEMININE - set(registered)
    # Each model of the admin has a French name that the list of feminine ones was checked on.
    names = {label: str(model._meta.verbose_name) for label, model in registered.items()}
    assert names["axes.accessattempt"] == "tentative échouée en cours"
    assert names["django_q.failure"] == "tâche échouée"
    assert names["django_q.schedule"] == "tâche planifiée"


def test_library_sections_have_french_names(admin_client):
    index = text(admin_client.get(reverse("admin:index")))
    assert "Tentatives de connexion" in index
    assert ">Axes<" not in index and "AXES" not in index
    assert "Tâches échouées" in index
    assert "Tâche échoué<" not in index
    axes = text(admin_client.get(reverse("admin:axes_accessattempt_changelist")))
    assert "<h1>Choisissez la tentative échouée en cours à modifier</h1>" in axes


def test_task_lists_are_a_superusers_scheduled_tasks_read_only_for_staff(client, admin_user):
    failure = Failure.objects.create(
        id="1" * 32,
        name="envoi",
        func="dossiers.tasks.heartbeat",
        started="2026-12-06T10:00:00Z",
        stopped="2026-12-06T10:00:01Z",
        success=False,
        result="/srv/telechargements/DILA-AEC-0000000000001-01/passeport-DUPONT.pdf",
    )
    staff = staff_with(
        "django_q.view_schedule",
        "django_q.change_schedule",
        "django_q.view_failure",
        "django_q.view_success",
        "django_q.view_ormq",
    )
    log_in(client, staff)
    index = text(client.get(reverse("admin:index")))
    assert "Tâches planifiées" in index
    assert "Tâches échouées" not in index and "Tâches réussies" not in index
    for name in ("failure", "success", "ormq"):
        assert client.get(reverse(f"admin:django_q_{name}_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:django_q_failure_change", args=[failure.pk])).status_code == 403
    )
    schedule = Schedule.objects.first()
    page = text(client.get(reverse("admin:django_q_schedule_change", args=[schedule.pk])))
    assert "<h1>Consultation de la tâche planifiée</h1>" in page
    assert 'name="func"' not in page
    # A superuser reads them all.
    log_in(client, admin_user)
    assert "DUPONT" in text(client.get(reverse("admin:django_q_failure_change", args=[failure.pk])))
