"""The service behind a change of where secrets are sent (used by the admin and the import)."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command

from demarches import services
from demarches.models import Demarche, HubEEConnection, Organisation
from tests.demarches.test_config_import import SIRET, install
from tests.factories import DemarcheFactory, HubEEConnectionFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-du-service-9f8e7d"
PROD = (
    "https://auth.hubee.numerique.gouv.fr/oauth2/token",
    "https://api.hubee.numerique.gouv.fr",
)


def test_unchanged_urls_change_nothing(caplog):
    connection = HubEEConnectionFactory()
    demarche = DemarcheFactory(connection=connection, client_secret=SECRET)

    assert (
        services.connection_destination_changed(connection, connection.destination, by="x") is None
    )

    demarche.refresh_from_db()
    assert demarche.client_secret == SECRET and demarche.enabled
    assert not caplog.records


def test_changed_urls_disable_the_connections_demarches_only(caplog):
    connection = HubEEConnectionFactory()
    old = connection.destination
    mine = DemarcheFactory(connection=connection, client_secret=SECRET)
    elsewhere = DemarcheFactory(
        connection=HubEEConnectionFactory(name="Recette", environment="recette"),
        client_secret=SECRET,
    )
    connection.token_url, connection.api_url = PROD
    connection.save()

    change = services.connection_destination_changed(connection, old, by="admin (id 1)")

    assert [d.pk for d in change.disabled] == [mine.pk]
    mine.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (mine.client_secret_encrypted, mine.enabled) == ("", False)
    assert elsewhere.client_secret == SECRET and elsewhere.enabled
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert f"URL du jeton : {old[0]} → {PROD[0]}" in record.getMessage()
    assert f"URL de l'API : {old[1]} → {PROD[1]}" in record.getMessage()
    assert "admin (id 1)" in record.getMessage()
    assert str(mine) in change.history


def test_a_new_connection_is_logged_with_its_urls(caplog):
    connection = HubEEConnectionFactory()

    change = services.connection_destination_changed(connection, None, by="admin")

    assert change.disabled == []
    assert connection.token_url in caplog.text and "créée" in caplog.text


@pytest.mark.parametrize("secret_replaced", [False, True])
def test_a_moved_demarche_is_disabled_unless_its_secret_came_with_the_move(secret_replaced):
    before = HubEEConnectionFactory()
    demarche = DemarcheFactory(connection=before, client_secret=SECRET)
    demarche.connection = HubEEConnectionFactory(name="Production", environment="production")
    demarche.connection.token_url, demarche.connection.api_url = PROD
    demarche.save()

    change = services.demarche_moved(demarche, before, secret_replaced=secret_replaced, by="x")

    demarche.refresh_from_db()
    assert bool(change.disabled) is not secret_replaced
    assert demarche.enabled is secret_replaced
    assert bool(demarche.client_secret_encrypted) is secret_replaced
    assert f"{before.destination[1]} → {PROD[1]}" in change.summary


def test_the_import_moves_a_demarche_with_the_secret_of_its_file(tmp_path, caplog):
    # apply_config never changes a connection's URLs (it finds or creates the one the file
    # names); a démarche it moves gets its secret from the file, so it stays as imported.
    Organisation.objects.create(name="Commune de Testville", siret=SIRET)
    first = install(tmp_path, "sc1")
    call_command("import_hubee_config", str(first), "--enable", stdout=StringIO())
    old_connection = HubEEConnection.objects.get()
    bystander = DemarcheFactory(
        connection=old_connection, organisation=Organisation.objects.get(), client_secret=SECRET
    )
    moved = install(
        tmp_path,
        "sc1",
        {
            "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token": PROD[0],
            "https://api.bas.hubee.numerique.gouv.fr/": PROD[1],
        },
    )
    caplog.clear()

    call_command("import_hubee_config", str(moved), "--enable", stdout=StringIO())

    old_connection.refresh_from_db()
    assert old_connection.destination[0] == "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token"
    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    assert etat_civil.connection.api_url == PROD[1]
    assert etat_civil.client_secret == "S3cr3t-sc1-etatcivil-2b8e1d"
    assert etat_civil.enabled
    bystander.refresh_from_db()
    assert bystander.client_secret == SECRET and bystander.enabled
    moves = [r.getMessage() for r in caplog.records if r.name == "demarches.services"]
    assert any("EtatCivil" in m and PROD[1] in m for m in moves)
    assert "S3cr3t" not in caplog.text
