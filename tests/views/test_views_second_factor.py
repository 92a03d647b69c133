"""The second factor (issue 20): who is asked, enrolment, verification, recovery codes,
throttling, reset by a superuser."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hubee_portal import second_factor
from tests.conftest import login_staff, totp_token
from tests.factories import AdminFactory, DemarcheFactory, DossierFactory, UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/connexion/second-facteur/"
SETUP = "/connexion/second-facteur/activer/"


def staff():
    return UserFactory(username="tech", is_staff=True)


def test_staff_without_device_is_sent_to_enrolment_on_every_page(client):
    client.force_login(staff())
    for path in ("/", "/admin/", "/admin/etat/", "/dossiers/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{SETUP}?next={path.replace('/', '%2F')}"


def test_staff_with_device_is_sent_to_verification(client):
    user = staff()
    totp_token(user)  # a confirmed device
    client.force_login(user)
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"


def test_exempt_paths_answer_without_second_factor(client):
    client.force_login(staff())
    assert client.get(reverse("login")).status_code == 200
    assert client.get(VERIFY).status_code == 302  # to enrolment: no device yet
    assert client.get(SETUP).status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


def test_an_agent_needs_it_only_for_sensitive_dossiers(client):
    plain = DemarcheFactory()
    sensitive = DemarcheFactory(process_code="CERTDC", sensitive=True)
    agent = UserFactory(username="agent.certdc")
    plain.agents.add(agent)
    sensitive.agents.add(agent)
    ordinary, certdc = DossierFactory(demarche=plain), DossierFactory(demarche=sensitive)
    client.force_login(agent)
    assert client.get("/").status_code == 200
    assert client.get("/dossiers/").status_code == 200
    assert client.get(f"/dossiers/{ordinary.pk}/").status_code == 200
    for path in (f"/dossiers/{certdc.pk}/", f"/dossiers/{certdc.pk}/pieces.zip"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{SETUP}?next=")
    login_staff(client, agent)  # the same helper completes a real TOTP for an agent
    assert client.get(f"/dossiers/{certdc.pk}/").status_code == 200


def test_export_and_bulk_pages_need_it_when_the_agent_sees_a_sensitive_demarche(client):
    sensitive = DemarcheFactory(process_code="CERTDC", sensitive=True)
    agent = UserFactory(username="agent.certdc")
    sensitive.agents.add(agent)
    certdc = DossierFactory(demarche=sensitive)
    client.force_login(agent)
    # They carry (or decide) the sensitive dossiers without opening them.
    for path in ("/dossiers/export.csv", f"/dossiers/lot/?action=prendre&dossier={certdc.pk}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{SETUP}?next=")
    login_staff(client, agent)
    assert client.get("/dossiers/export.csv").status_code == 200
    # An agent of ordinary démarches only is not asked.
    other = UserFactory(username="agent.ordinaire")
    DemarcheFactory().agents.add(other)
    client.force_login(other)
    assert client.get("/dossiers/export.csv").status_code == 200


def test_an_agent_not_habilitated_gets_the_404_not_the_second_factor(client):
    certdc = DossierFactory(demarche=DemarcheFactory(sensitive=True))
    client.force_login(UserFactory(username="ailleurs"))
    assert client.get(f"/dossiers/{certdc.pk}/").status_code == 404


def test_proconnect_session_is_sent_to_the_step_up_once(client):
    user = staff()
    client.force_login(user)
    session = client.session
    session[second_factor.LOGIN_METHOD] = second_factor.PROCONNECT
    session.save()
    response = client.get("/admin/")
    assert response["Location"] == "/connexion/proconnect/renforcer/?next=%2Fadmin%2F"
    session = client.session
    session[second_factor.STEP_UP_TRIED] = True
    session.save()
    assert client.get("/admin/")["Location"].startswith(SETUP)
    session = client.session
    session[second_factor.MFA] = second_factor.PROCONNECT
    session.save()
    assert client.get("/admin/").status_code == 200


def test_enrolment_shows_qr_and_key_then_ten_codes_once(client):
    user = staff()
    client.force_login(user)
    page = client.get(f"{SETUP}?next=/admin/").content.decode()
    assert 'role="img"' in page and "<title>QR code de configuration</title>" in page
    assert "style=" not in page.split("<main", 1)[1]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    key = "".join(re.findall(r"<code>([A-Z2-7]{1,4})</code>", page))
    assert len(key) == 32 and 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page

    wrong = client.post(SETUP, {"code": "12345", "next": "/admin/"})
    assert wrong.status_code == 400
    assert 'aria-describedby="id_code_helptext id_code_error"' in wrong.content.decode()
    assert "Le code fait 6 chiffres" in wrong.content.decode()

    device.confirmed = True  # so that the helper computes its code, then back
    device.save()
    token = totp_token(user)
    device.confirmed = False
    device.save()
    response = client.post(SETUP, {"code": token, "next": "/admin/"})
    assert response["Location"] == "/connexion/second-facteur/codes-de-secours/?next=%2Fadmin%2F"
    codes_page = client.get(response["Location"]).content.decode()
    shown = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", codes_page)
    assert len(shown) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert client.session[second_factor.MFA] == "totp"
    assert client.get("/admin/").status_code == 200
    # Shown once: the page then only counts them.
    again = client.get("/connexion/second-facteur/codes-de-secours/").content.decode()
    assert not re.findall(r"<code>[a-z2-7]{4}-", again) and "Il vous reste" in again


def test_enrolment_is_not_offered_again_once_done(client):
    user = staff()
    totp_token(user)
    client.force_login(user)
    assert client.get(SETUP)["Location"].startswith(VERIFY)


def test_recovery_code_works_once(client):
    user = staff()
    totp_token(user)
    codes = second_factor.new_recovery_codes(user)
    client.force_login(user)
    code = f"{codes[0][:4]}-{codes[0][4:].upper()}"  # as shown, typed in capitals
    response = client.post(VERIFY, {"recovery_code": code, "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    client.force_login(user)
    again = client.post(VERIFY, {"recovery_code": codes[0], "next": "/admin/"})
    assert again.status_code == 400 and "Code incorrect" in again.content.decode()


def test_wrong_codes_are_throttled_with_the_time_to_retry(client):
    user = staff()
    token = totp_token(user)
    second_factor.new_recovery_codes(user)
    client.force_login(user)
    wrong = "000000" if token != "000000" else "111111"
    first = client.post(VERIFY, {"code": wrong})
    assert "Trop de codes erronés" in first.content.decode()  # 1 s to wait already
    # Ten failures in a row (512 s to wait): the test does not race a one-second delay.
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=10)
    # Even the right code, and recovery codes, wait for the end of the delay.
    refused = client.post(VERIFY, {"code": token}).content.decode()
    assert re.search(r"prochain essai n.*est possible qu.*à partir de \d\d:\d\d:\d\d", refused)
    codes = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    refused = client.post(VERIFY, {"recovery_code": codes[0]}).content.decode()
    assert "Trop de codes erronés" in refused
    device = TOTPDevice.objects.get(user=user)
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=9)
    device.save()
    assert client.post(VERIFY, {"code": totp_token(user)}).status_code == 302


def test_throttling_is_on_for_both_kinds_of_device():
    user = staff()
    assert TOTPDevice(user=user).throttling_enabled
    assert StaticDevice(user=user).throttling_enabled


def test_next_never_leaves_the_portal(client):
    user = staff()
    client.force_login(user)
    response = client.post(VERIFY, {"code": totp_token(user), "next": "https://ailleurs.example"})
    assert response["Location"] == "/"


def test_superuser_resets_a_users_second_factor_audited(client):
    user = staff()
    totp_token(user)
    second_factor.new_recovery_codes(user)
    superuser = AdminFactory()
    login_staff(client, superuser)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == superuser and "Double authentification" in entry.change_message


def test_only_a_superuser_may_reset(client):
    target = UserFactory(username="agent.x")
    totp_token(target)
    tech = UserFactory(username="tech2", is_staff=True)
    tech.user_permissions.add(*_user_permissions())
    login_staff(client, tech)
    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [target.pk]},
    )
    assert TOTPDevice.objects.filter(user=target).exists()


def _user_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename__in=["view_user", "change_user"])
