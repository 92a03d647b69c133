"""Login everywhere, habilitations per démarche (404 outside them), login throttling."""

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from dossiers.models import OutgoingEvent
from dossiers.records.access import client_ip, dossiers_for, sees_all_dossiers, view_all_permission
from dossiers.web.views import home as views
from tests.conftest import log_in
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    PieceJointeFactory,
    UserFactory,
    agent_for,
    staff_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_demarches():
    a = DemarcheFactory(name="Actes A")
    b = DemarcheFactory(name="Recensement B")
    dossier_b = DossierFactory(demarche=b, applicant_last_name="Secret")
    piece_b = PieceJointeFactory(
        dossier=dossier_b, file_name="b.xml", mime_type="application/xml", content=b"<a/>"
    )
    outgoing_b = OutgoingEvent.objects.create(
        dossier=dossier_b, case_new_status="DONE", author="x", state="failed"
    )
    return a, b, dossier_b, piece_b, outgoing_b


def urls_of(dossier, piece, outgoing):
    return {
        "get": [
            reverse("dossiers:detail", args=[dossier.pk]),
            reverse("dossiers:download", args=[dossier.pk, piece.pk]),
            reverse("dossiers:download-all", args=[dossier.pk]),
            reverse("dossiers:piece-fields", args=[dossier.pk, piece.pk]),
            reverse("dossiers:action", args=[dossier.pk, "traiter"]),
        ],
        "post": [
            reverse("dossiers:action", args=[dossier.pk, "traiter"]),
            reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]),
        ],
    }


def test_every_agent_page_needs_login(client, two_demarches):
    _, _, dossier, piece, outgoing = two_demarches
    urls = urls_of(dossier, piece, outgoing)
    pages = [reverse("home"), reverse("dossiers:list"), reverse("preferences"), *urls["get"]]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    for url in [*urls["post"], reverse("sync-now")]:
        response = client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_an_agent_of_a_gets_404_for_everything_of_b(client, two_demarches):
    a, _, dossier, piece, outgoing = two_demarches
    log_in(client, agent_for(a))
    urls = urls_of(dossier, piece, outgoing)
    for url in urls["get"]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url, {"confirm": "on"}).status_code == 404, url
    # Nothing was queued nor retried for B.
    assert OutgoingEvent.objects.filter(dossier=dossier).count() == 1
    assert OutgoingEvent.objects.get(pk=outgoing.pk).state == "failed"


def test_a_file_of_b_under_a_dossier_of_a_is_404(client, two_demarches):
    a, _, _, piece_b, outgoing_b = two_demarches
    mine = DossierFactory(demarche=a)
    log_in(client, agent_for(a))
    assert client.get(reverse("dossiers:download", args=[mine.pk, piece_b.pk])).status_code == 404
    assert client.post(reverse("dossiers:retry", args=[mine.pk, outgoing_b.pk])).status_code == 404


def test_list_and_dashboard_show_only_my_demarches(client, two_demarches):
    a, b, dossier_b, _, _ = two_demarches
    mine = DossierFactory(demarche=a, applicant_last_name="Visible")
    log_in(client, agent_for(a))
    listing = client.get(reverse("dossiers:list")).content.decode()
    assert mine.external_id in listing
    assert dossier_b.external_id not in listing and "Secret" not in listing
    board = client.get(reverse("home")).content.decode()
    assert "Actes A" in board and "Recensement B" not in board


def test_admins_see_every_demarche(client, two_demarches):
    _, _, dossier_b, piece_b, _ = two_demarches
    log_in(client, AdminFactory())
    assert client.get(reverse("dossiers:detail", args=[dossier_b.pk])).status_code == 200
    assert (
        client.get(reverse("dossiers:download", args=[dossier_b.pk, piece_b.pk])).status_code == 200
    )


# -- administrateurs techniques (is_staff): habilitations, like agents (issue 11) --------------


def test_a_staff_account_without_habilitation_gets_404_for_every_dossier(client, two_demarches):
    _, _, dossier, piece, outgoing = two_demarches
    log_in(client, UserFactory(is_staff=True))
    urls = urls_of(dossier, piece, outgoing)
    for url in urls["get"]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url, {"confirm": "on"}).status_code == 404, url
    assert OutgoingEvent.objects.filter(dossier=dossier).count() == 1
    assert OutgoingEvent.objects.get(pk=outgoing.pk).state == "failed"


def test_a_staff_account_lists_and_exports_only_its_demarches(client, two_demarches):
    a, _, dossier_b, _, _ = two_demarches
    mine = DossierFactory(demarche=a, applicant_last_name="Visible")
    log_in(client, agent_for(a, is_staff=True))
    listing = client.get(reverse("dossiers:list")).content.decode()
    assert mine.external_id in listing
    assert dossier_b.external_id not in listing and "Secret" not in listing
    response = client.get(reverse("dossiers:export"))
    export = b"".join(response.streaming_content).decode("utf-8-sig")
    assert mine.external_id in export and "Visible" in export
    for value in (dossier_b.external_id, "Secret", dossier_b.applicant_email):
        assert value not in export
    board = client.get(reverse("home")).content.decode()
    assert "Actes A" in board and "Recensement B" not in board


def test_a_staff_account_syncs_only_its_demarches(client, two_demarches, monkeypatch):
    a, *_ = two_demarches
    queued = []
    monkeypatch.setattr(views, "async_task", lambda func, pk, **kwargs: queued.append(pk))
    log_in(client, agent_for(a, is_staff=True))
    client.post(reverse("sync-now"))
    assert queued == [a.pk]


def test_a_staff_account_without_habilitation_is_told_its_role_on_the_dashboard(
    client, two_demarches
):
    log_in(client, UserFactory(is_staff=True))
    board = client.get(reverse("home")).content.decode()
    assert "Administrateur technique" in board and "où vous êtes habilité" in board
    assert "Recensement B" not in board and "Secret" not in board
    assert "Ajouter une démarche" not in board  # no add_demarche permission


def supervisor_through_group(**kwargs):
    group = Group.objects.create(name="Supervision")
    group.permissions.add(view_all_permission().get())
    user = UserFactory(**kwargs)
    user.groups.add(group)
    return user


@pytest.mark.parametrize(
    "make",
    [
        lambda: staff_with("dossiers.view_all_dossiers"),
        lambda: staff_with("dossiers.view_all_dossiers", is_staff=False),
        supervisor_through_group,
    ],
    ids=["staff", "not-staff", "group"],
)
def test_a_supervisor_holding_view_all_sees_every_demarche(client, two_demarches, make):
    a, _, dossier_b, piece_b, _ = two_demarches
    mine = DossierFactory(demarche=a, applicant_last_name="Visible")
    supervisor = make()
    assert sees_all_dossiers(supervisor)
    log_in(client, supervisor)
    assert client.get(reverse("dossiers:detail", args=[dossier_b.pk])).status_code == 200
    download = reverse("dossiers:download", args=[dossier_b.pk, piece_b.pk])
    assert client.get(download).status_code == 200
    listing = client.get(reverse("dossiers:list")).content.decode()
    assert mine.external_id in listing and dossier_b.external_id in listing
    export = b"".join(client.get(reverse("dossiers:export")).streaming_content).decode()
    assert "Visible" in export and "Secret" in export
    board = client.get(reverse("home")).content.decode()
    assert "Actes A" in board and "Recensement B" in board


def test_the_permission_of_an_inactive_account_opens_nothing(two_demarches):
    supervisor = supervisor_through_group(is_active=False)
    assert not sees_all_dossiers(supervisor)
    assert dossiers_for(supervisor).count() == 0
    assert sees_all_dossiers(AdminFactory())
    assert not sees_all_dossiers(UserFactory(is_staff=True))


def test_an_inactive_or_unassigned_user_sees_nothing(two_demarches):
    a, *_ = two_demarches
    DossierFactory(demarche=a)
    assert dossiers_for(UserFactory()).count() == 0
    inactive = agent_for(a, is_active=False)
    assert dossiers_for(inactive).count() == 0
    assert dossiers_for(agent_for(a)).count() == 1


def test_login_is_throttled_after_repeated_failures(client, settings):
    user = UserFactory(username="camille")
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "camille", "password": "faux"})
        assert response.status_code == 200
    response = client.post(url, {"username": "camille", "password": "faux"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "Connexion suspendue" in page and "15 minutes" in page
    # Even the right password is refused during the cool-off.
    response = client.post(url, {"username": "camille", "password": "mot-de-passe-de-test"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    UserFactory(username="dominique")
    response = client.post(url, {"username": "dominique", "password": "mot-de-passe-de-test"})
    assert response.status_code == 302
    assert user.pk


def test_a_successful_login_resets_the_failure_count(client, settings):
    UserFactory(username="camille")
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(url, {"username": "camille", "password": "faux"})
    assert (
        client.post(url, {"username": "camille", "password": "mot-de-passe-de-test"}).status_code
        == 302
    )
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"username": "camille", "password": "faux"}).status_code == 200


def test_client_ip_behind_the_tls_proxy(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8"
    )
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(request) == "10.0.0.1"
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "5.6.7.8"


def test_axes_reads_the_client_ip_from_the_access_module(settings):
    from django.utils.module_loading import import_string

    assert import_string(settings.AXES_CLIENT_IP_CALLABLE) is client_ip
