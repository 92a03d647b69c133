import hashlib

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from demarches.models import Demarche, HubEEConnection, Organisation


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["siret"]

    name = "Commune de Nice"
    siret = "21060088800015"
    code_guichet = "06088"


class HubEEConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HubEEConnection
        django_get_or_create = ["name"]

    name = "Préproduction"
    environment = "preproduction"
    token_url = "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token"
    api_url = "https://api.bas.hubee.numerique.gouv.fr"
    editor_name = "COMMUNE DE NICE"


class DemarcheFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demarche
        skip_postgeneration_save = True

    name = "Actes d'état civil"
    process_code = factory.Sequence(lambda n: f"EtatCivil{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    connection = factory.SubFactory(HubEEConnectionFactory)
    client_id = factory.Sequence(lambda n: f"client-{n:04d}")
    client_secret = "s3cret-value-from-hubee"
    download_folder = factory.LazyFunction(lambda: str(_tmp_folder()))
    enabled = True


def _now():
    return timezone.now()


def _tmp_folder():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="hubee-demarche-"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    password = factory.PostGenerationMethodCall("set_password", "mot-de-passe-de-test")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class AdminFactory(UserFactory):
    username = "admin"
    is_staff = True
    is_superuser = True


class DossierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "dossiers.Dossier"

    demarche = factory.SubFactory(DemarcheFactory)
    hubee_case_id = factory.Faker("uuid4", cast_to=None)
    external_id = factory.Sequence(lambda n: f"DILA-AEC-{n:013d}-01")
    process_code = factory.LazyAttribute(lambda o: o.demarche.process_code)
    status = "SI_RECEIVED"
    applicant_first_name = "Camille"
    applicant_last_name = factory.Sequence(lambda n: f"Martin{n}")
    applicant_email = factory.LazyAttribute(lambda o: f"{o.applicant_last_name.lower()}@ex.fr")
    folder_name = factory.LazyAttribute(lambda o: o.external_id)


class EvenementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "dossiers.Evenement"
        skip_postgeneration_save = True

    dossier = factory.SubFactory(DossierFactory)
    hubee_event_id = factory.Faker("uuid4", cast_to=None)
    action_type = "SENDING_MESSAGE"
    direction = "received"
    message = "Voici ma réponse."
    author = "Usager"
    hubee_status = "RECEIVED"
    hubee_created_at = factory.LazyFunction(_now)

    @factory.post_generation
    def as_received(obj, create, extracted, **kwargs):
        # What the exchange does with every event it stores (mapping.store_event).
        if create:
            from dossiers.exchange.inbound.mapping import note_citizen

            note_citizen(obj)


class PieceJointeFactory(factory.django.DjangoModelFactory):
    """A stored attachment whose bytes (`content=`) are written in the démarche folder."""

    class Meta:
        model = "dossiers.PieceJointe"
        skip_postgeneration_save = True

    dossier = factory.SubFactory(DossierFactory)
    hubee_attachment_id = factory.Faker("uuid4", cast_to=None)
    file_name = factory.Sequence(lambda n: f"piece-{n}.pdf")
    stored_path = factory.LazyAttribute(lambda o: f"{o.dossier.folder_name}/{o.file_name}")
    attachment_type = "ActeEtatCivil-PDF"
    mime_type = "application/pdf"
    hubee_status = "RECEIVED"
    state = "stored"

    @factory.post_generation
    def content(obj, create, extracted, **kwargs):  # noqa: N805
        data = extracted if extracted is not None else b"%PDF-1.4 test\n"
        obj.size = len(data)
        obj.sha256 = hashlib.sha256(data).hexdigest()
        if create:
            if obj.state == "stored":
                path = obj.absolute_path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            obj.save(update_fields=["size", "sha256"])


def agent_for(*demarches, **kwargs):
    """A user given these démarches (habilitations)."""
    user = UserFactory(**kwargs)
    for demarche in demarches:
        demarche.agents.add(user)
    return user


def staff_with(*permissions, **kwargs):
    """An administrateur technique (is_staff unless told otherwise, never superuser) holding
    these permissions, each written "app_label.codename"."""
    from django.contrib.auth.models import Permission

    user = UserFactory(**{"is_staff": True, **kwargs})
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user
