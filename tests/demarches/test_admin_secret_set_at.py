"""« Secret enregistré le … »: when the démarche's client secret last changed, never the secret."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from demarches import services
from demarches.models import Demarche
from tests.demarches.test_admin_demarches import form_data
from tests.factories import DemarcheFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-du-portail-HUBEE-42"
# 09:42 UTC is 10:42 in Paris in winter: the page shows the portal's local time.
SET_AT = datetime(2026, 12, 6, 9, 42, tzinfo=UTC)
LATER = datetime(2026, 12, 8, 15, 5, tzinfo=UTC)


def test_setting_the_secret_records_when():
    with time_machine.travel(SET_AT, tick=False):
        demarche = DemarcheFactory(client_secret=SECRET)
    assert demarche.secret_set_at == SET_AT
    assert demarche.secret_state == "Secret enregistré le 06/12/2026 à 10:42"


def test_the_same_secret_again_keeps_the_date_another_one_moves_it():
    with time_machine.travel(SET_AT, tick=False):
        demarche = DemarcheFactory(client_secret=SECRET)
    with time_machine.travel(LATER, tick=False):
        demarche.client_secret = SECRET  # a configuration imported again
        assert demarche.secret_set_at == SET_AT
        demarche.client_secret = "un-autre-secret"
        assert demarche.secret_set_at == LATER
        demarche.client_secret = ""
        assert demarche.secret_set_at is None
    assert demarche.secret_state == "Aucun secret enregistré"


def test_a_secret_stored_before_this_version_says_its_date_is_unknown():
    demarche = DemarcheFactory(client_secret=SECRET)
    Demarche.objects.filter(pk=demarche.pk).update(secret_set_at=None)  # as migrated by 0007
    demarche.refresh_from_db()
    assert demarche.secret_state == (
        "Secret enregistré, date inconnue (enregistré avant cette version)"
    )


def test_a_secret_cleared_by_a_destination_change_shows_none():
    demarche = DemarcheFactory(client_secret=SECRET)
    services.disable_secrets([demarche])
    demarche.refresh_from_db()
    assert demarche.secret_set_at is not None  # cleared by an update: the state reads the secret
    assert demarche.secret_state == "Aucun secret enregistré"


def test_admin_page_and_list_show_the_date_never_the_secret(admin_client):
    with time_machine.travel(SET_AT, tick=False):
        demarche = DemarcheFactory(client_secret=SECRET)
    legacy = DemarcheFactory(client_secret="ancien-secret-HUBEE")
    Demarche.objects.filter(pk=legacy.pk).update(secret_set_at=None)
    change = admin_client.get(reverse("admin:demarches_demarche_change", args=[demarche.pk]))
    listing = admin_client.get(reverse("admin:demarches_demarche_changelist"))
    for response in (change, listing):
        html = response.content.decode()
        assert "Secret enregistré le 06/12/2026 à 10:42" in html
        assert SECRET not in html
        assert demarche.client_secret_encrypted not in html
    assert "date inconnue (enregistré avant cette version)" in listing.content.decode()
    assert "ancien-secret-HUBEE" not in listing.content.decode()


def test_admin_saves_move_the_date_only_when_a_secret_is_typed(admin_client, tmp_path, settings):
    # The clock jumps two days ahead: the session must not end for being idle meanwhile.
    settings.SESSION_IDLE_TIMEOUT = 7 * 24 * 3600
    url = reverse("admin:demarches_demarche_add")
    with time_machine.travel(SET_AT, tick=False):
        response = admin_client.post(url, form_data(download_folder=str(tmp_path / "a")))
    assert response.status_code == 302, response.content.decode()
    demarche = Demarche.objects.get(client_id="client-etat-civil")
    assert demarche.secret_set_at == SET_AT
    data = form_data(download_folder=str(tmp_path / "a"), client_secret="")
    data.update(organisation=demarche.organisation_id, connection=demarche.connection_id)
    change = reverse("admin:demarches_demarche_change", args=[demarche.pk])
    with time_machine.travel(LATER, tick=False):
        assert admin_client.post(change, data).status_code == 302
        demarche.refresh_from_db()
        assert demarche.secret_set_at == SET_AT  # blank keeps the secret, and its date
        data["client_secret"] = "nouveau-secret-HUBEE"
        assert admin_client.post(change, data).status_code == 302
    demarche.refresh_from_db()
    assert demarche.secret_set_at == LATER
    assert demarche.client_secret == "nouveau-secret-HUBEE"
