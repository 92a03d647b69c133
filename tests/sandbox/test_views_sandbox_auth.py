"""Tokens, 401/403/404 and the gateway's 400s, through the real HubEE client where it can go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import repeat

import pytest
import requests
import time_machine
from django.utils import timezone

from hubee_portal.hubee import AuthenticationError, ForbiddenError, HubEEClient, NotFoundError
from hubee_portal.sandbox import services
from hubee_portal.sandbox.models import Subscription, Token
from tests.sandbox.conftest import API, BASE, TOKEN_URL, bearer
from tests.sandbox.helpers import etat_civil_files, status_event

# API.md §2.2 / §11, literally.
INVALID_CREDENTIALS_BODY = {
    "errors": [
        {
            "code": 900901,
            "message": "Invalid Credentials : Invalid Credentials. Make sure you have given the "
            "correct access token",
        }
    ]
}


def test_token_endpoint_issues_a_bearer_token(raw: requests.Session, subscription) -> None:
    response = raw.post(
        TOKEN_URL,
        auth=("client-etatcivil", "secret-etatcivil"),
        data={"grant_type": "client_credentials", "scope": "SI"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert Token.objects.get(value=body["access_token"]).subscription == subscription


def test_token_lifetime_fault_sets_expires_in(raw: requests.Session, subscription) -> None:
    services.set_faults(token_lifetime=90)

    body = raw.post(
        TOKEN_URL,
        auth=("client-etatcivil", "secret-etatcivil"),
        data={"grant_type": "client_credentials", "scope": "SI"},
    ).json()

    assert body["expires_in"] == 90
    token = Token.objects.get(value=body["access_token"])
    assert timedelta(seconds=85) < token.expires_at - timezone.now() <= timedelta(seconds=90)


@pytest.mark.parametrize(
    "auth", [("client-etatcivil", "wrong"), ("unknown", "secret-etatcivil"), None]
)
def test_bad_client_credentials_give_401(raw: requests.Session, subscription, auth) -> None:
    response = raw.post(
        TOKEN_URL, auth=auth, data={"grant_type": "client_credentials", "scope": "SI"}
    )

    assert response.status_code == 401
    assert not Token.objects.exists()


def test_client_reports_bad_credentials(
    subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(Subscription(client_id="client-etatcivil", client_secret="wrong"))

    with pytest.raises(AuthenticationError) as caught:
        client.list_notifications(25)

    assert caught.value.status_code == 401


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
)
def test_missing_or_unknown_token_gives_the_900901_body(
    raw: requests.Session, subscription, headers
) -> None:
    response = raw.get(f"{API}/notifications", headers=headers)

    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS_BODY


def test_expired_token_gives_900901_and_the_client_gets_a_new_one(
    subscription: Subscription, make_client: Callable[..., HubEEClient], raw: requests.Session
) -> None:
    services.set_faults(token_lifetime=60)
    # The client's clock stands still: it trusts its token while the sandbox's clock moves on.
    client = make_client(subscription, monotonic=repeat(0.0).__next__)
    services.deposit_case(subscription, files=etat_civil_files())
    assert len(client.list_notifications(25)) == 1
    old_token = Token.objects.get().value

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        expired = raw.get(f"{API}/notifications", headers={"Authorization": f"Bearer {old_token}"})
        notifications = client.list_notifications(25)

    assert expired.status_code == 401
    assert expired.json() == INVALID_CREDENTIALS_BODY
    assert len(notifications) == 1
    assert client.stats.token_requests == 2
    counts = services.call_counts(client_id="client-etatcivil", path="/oauth2/token")
    assert counts.calls == 2


def test_expire_tokens_forces_401_then_refresh(
    subscription: Subscription, client: HubEEClient
) -> None:
    client.list_notifications(25)

    assert services.expire_tokens(subscription) == 1
    client.list_notifications(25)

    counts = services.call_counts(path="/teledossiers/v1/notifications")
    assert counts.by_status == {200: 2, 401: 1}
    assert client.stats.token_requests == 2


def test_another_subscriptions_case_is_forbidden(
    subscription: Subscription,
    strict_subscription: Subscription,
    make_client: Callable[..., HubEEClient],
    raw: requests.Session,
) -> None:
    other_case = services.deposit_case(strict_subscription, files=etat_civil_files())
    other_notification = other_case.notifications.get()
    client = make_client(subscription)

    with pytest.raises(ForbiddenError) as caught:
        client.get_case(str(other_case.id))
    with pytest.raises(ForbiddenError):
        client.create_event(str(other_case.id), status_event("SI_RECEIVED"))
    with pytest.raises(ForbiddenError):
        client.delete_notification(str(other_notification.id))

    assert caught.value.hubee_message == "Unauthorized user"
    assert client.list_notifications(25) == []  # filtered by the token's démarche
    assert services.status_pushes(other_case) == []
    other_case.notifications.get()  # still there


def test_purged_case_answers_404_everywhere(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    attachment = case.attachments.first()
    event = services.osl_message(case, "Pièce complémentaire à venir")
    services.purge_case(case)
    headers = bearer(raw, subscription)

    with pytest.raises(NotFoundError) as caught:
        client.get_case(str(case.id))
    assert caught.value.hubee_message == "Case is not found"
    with pytest.raises(NotFoundError):
        client.get_event(str(case.id), str(event.id))
    with pytest.raises(NotFoundError):
        client.download_case_attachment(str(case.id), str(attachment.id), _Sink(), None)
    with pytest.raises(NotFoundError):
        client.create_event(str(case.id), status_event("SI_RECEIVED"))
    with pytest.raises(NotFoundError):
        client.patch_event(str(case.id), str(event.id), "RECEIVED")
    with pytest.raises(NotFoundError):
        client.patch_case(str(case.id), "SI_RECEIVED")
    patch = raw.patch(f"{API}/cases/{case.id}", json={"status": "SENT"}, headers=headers)
    assert patch.json() == {"errors": [{"code": 404, "message": "Case is not found"}]}
    # Its notifications stay listed: the SI must give up on them itself.
    assert [n.case_id for n in client.list_notifications(25)] == [str(case.id)] * 2


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)

    def seek(self, *args: int) -> int:
        return 0

    def truncate(self, *args: int) -> int:
        return 0


def test_non_uuid_path_id_gives_the_gateway_400(raw: requests.Session, subscription) -> None:
    headers = bearer(raw, subscription)

    response = raw.delete(f"{API}/notifications/dddddd", headers=headers)

    assert response.status_code == 400
    # API.md §3, the SW example, literally.
    assert response.json()["errors"][0]["message"] == (
        "Bad Request : Validation failed.\n[ERROR][REQUEST][DELETE "
        '/teledossiers/v1/notifications/dddddd @path.notificationId] Input string "dddddd" '
        "is not a valid UUID"
    )


@pytest.mark.parametrize(
    ("method", "path", "location"),
    [
        ("GET", "cases/1234", "path.caseId"),
        ("GET", "cases/{uuid}/attachments/x", "path.attachmentId"),
        ("POST", "cases/nope/events", "path.caseId"),
        ("GET", "cases/{uuid}/events/nope", "path.eventId"),
        ("PUT", "cases/{uuid}/events/{uuid}/attachments/nope", "path.attachmentId"),
    ],
)
def test_every_route_checks_its_uuids(
    raw: requests.Session, subscription, method: str, path: str, location: str
) -> None:
    path = path.replace("{uuid}", "0b3fbd0c-4c5d-4a8e-9f57-0e7dcb1d2f11")

    response = raw.request(method, f"{API}/{path}", headers=bearer(raw, subscription))

    assert response.status_code == 400
    assert f"@{location}]" in response.json()["errors"][0]["message"]


def test_max_result_must_be_a_number(raw: requests.Session, subscription) -> None:
    response = raw.get(
        f"{API}/notifications", params={"maxResult": "beaucoup"}, headers=bearer(raw, subscription)
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].endswith(
        "@query.maxResult] Instance type (string) does not match any allowed primitive type "
        '(allowed: ["integer","number"])'
    )


def test_identification_header_over_50_characters_is_refused(
    raw: requests.Session, subscription
) -> None:
    headers = {**bearer(raw, subscription), "applicationName": "x" * 51}

    response = raw.get(f"{API}/notifications", headers=headers)

    assert response.status_code == 400
    assert "@header.applicationName]" in response.json()["errors"][0]["message"]


def test_sandbox_needs_no_login_but_the_portal_still_does(raw: requests.Session, db) -> None:
    assert raw.get(f"{BASE}/", allow_redirects=False).status_code == 302
    assert raw.get(f"{API}/notifications").status_code == 401  # bearer, not a login page
