import errno
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from demarches import crypto
from demarches.models import Demarche, HubEEConnection
from tests.factories import DemarcheFactory, HubEEConnectionFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

SECRET = "tres-secret-0123456789"


def test_client_secret_is_encrypted_at_rest():
    demarche = DemarcheFactory(client_secret=SECRET)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret_encrypted FROM demarches_demarche WHERE id = %s", [demarche.pk]
        )
        (raw,) = cursor.fetchone()
    assert SECRET not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert Demarche.objects.get(pk=demarche.pk).client_secret == SECRET


def test_secret_encrypted_with_another_key_gives_a_clear_error(settings):
    demarche = DemarcheFactory(client_secret=SECRET)
    from cryptography.fernet import Fernet

    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.SecretDecryptionError, match="ENCRYPTION_KEY"):
        Demarche.objects.get(pk=demarche.pk).client_secret  # noqa: B018


def test_key_rotation_keeps_old_secrets_readable(settings):
    from cryptography.fernet import Fernet

    demarche = DemarcheFactory(client_secret=SECRET)
    old = settings.ENCRYPTION_KEYS
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    assert Demarche.objects.get(pk=demarche.pk).client_secret == SECRET


def valid_demarche(**overrides):
    values = {
        "name": "Recensement",
        "process_code": "recensementCitoyen",
        "organisation": OrganisationFactory(),
        "connection": HubEEConnectionFactory(),
        "client_id": "abc",
        "client_secret": SECRET,
    }
    values.update(overrides)
    return Demarche(**values)


def test_valid_demarche_passes_full_clean(tmp_path):
    demarche = valid_demarche(download_folder=str(tmp_path / "a" / "b"))
    demarche.full_clean()
    assert (tmp_path / "a" / "b").is_dir()  # created by the validation
    assert list((tmp_path / "a" / "b").iterdir()) == []  # probe file removed


def errors_of(demarche) -> dict:
    with pytest.raises(ValidationError) as info:
        demarche.full_clean()
    return info.value.message_dict


def test_relative_download_folder_is_refused():
    errors = errors_of(valid_demarche(download_folder="telechargements/etat-civil"))
    assert "doit être un chemin absolu" in errors["download_folder"][0]


def test_download_folder_that_cannot_be_created(tmp_path):
    a_file = tmp_path / "fichier"
    a_file.write_text("x")
    errors = errors_of(valid_demarche(download_folder=str(a_file / "sous-dossier")))
    assert "ne peut pas être créé" in errors["download_folder"][0]


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_download_folder_that_cannot_be_written(tmp_path, monkeypatch, code):
    # CI runs as root: inject the failure at the writer instead of relying on permissions.
    def refuse(folder):
        raise OSError(code, __import__("os").strerror(code))

    monkeypatch.setattr("demarches.validators.write_probe_file", refuse)
    errors = errors_of(valid_demarche(download_folder=str(tmp_path)))
    assert "Impossible d'écrire dans le dossier" in errors["download_folder"][0]
    assert __import__("os").strerror(code) in errors["download_folder"][0]


def test_unknown_status_is_refused(tmp_path):
    errors = errors_of(valid_demarche(download_folder=str(tmp_path), automatic_status="DONE"))
    assert "automatic_status" in errors


def test_a_final_status_must_be_allowed(tmp_path):
    errors = errors_of(
        valid_demarche(download_folder=str(tmp_path), allow_done=False, allow_refused=False)
    )
    assert "Autorisez au moins un statut final" in errors["allow_done"][0]


def test_automatic_final_status_must_be_an_allowed_one(tmp_path):
    errors = errors_of(
        valid_demarche(
            download_folder=str(tmp_path), allow_done=False, automatic_final_status="DONE"
        )
    )
    assert "statuts finaux autorisés" in errors["automatic_final_status"][0]


def test_one_process_code_per_organisation(tmp_path):
    first = DemarcheFactory(process_code="EtatCivil")
    errors = errors_of(
        valid_demarche(
            download_folder=str(tmp_path),
            organisation=first.organisation,
            connection=first.connection,
            process_code="EtatCivil",
            client_id="other",
        )
    )
    assert "déjà une démarche avec ce code" in str(errors)


def test_connection_urls_come_from_the_environment_preset():
    connection_ = HubEEConnection(name="Recette", environment="recette")
    connection_.full_clean()
    assert connection_.token_url == "https://auth.basrec.hubee.numerique.gouv.fr/oauth2/token"
    assert connection_.api_url == "https://api.basrec.hubee.numerique.gouv.fr"
    assert connection_.application_name == "HubEE Portal"


def test_custom_connection_needs_urls_and_valid_ones():
    with pytest.raises(ValidationError) as info:
        HubEEConnection(name="Autre", environment="autre", token_url="pas une url").full_clean()
    assert "token_url" in info.value.message_dict
    assert "api_url" in info.value.message_dict


@pytest.mark.parametrize("size", [0, 501])
def test_batch_size_range(size):
    with pytest.raises(ValidationError) as info:
        HubEEConnection(name="x", batch_size=size).full_clean()
    assert "batch_size" in info.value.message_dict


def test_identification_headers_are_limited_to_50_characters():
    with pytest.raises(ValidationError) as info:
        HubEEConnection(name="x", editor_name="E" * 51).full_clean()
    assert "editor_name" in info.value.message_dict


def test_secret_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    DemarcheFactory(client_secret=SECRET)
    assert SECRET not in caplog.text


def test_rotate_key_command_reencrypts_with_the_new_key(settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    demarche = DemarcheFactory(client_secret=SECRET)
    old = list(settings.ENCRYPTION_KEYS)
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, *old]
    out = StringIO()
    call_command("hubee_rotate_key", stdout=out)
    assert "1 secret(s) rechiffré(s)" in out.getvalue()
    settings.ENCRYPTION_KEYS = [new]  # the old key can now be dropped
    assert Demarche.objects.get(pk=demarche.pk).client_secret == SECRET
