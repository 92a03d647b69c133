import factory
from django.contrib.auth import get_user_model

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
