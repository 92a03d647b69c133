"""Fault switches: each hits the first attempt at a resource, and the real client recovers."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import requests

from hubee_portal.hubee import CorruptDownloadError, HubEEClient, TransientError
from hubee_portal.sandbox import faults, services
from hubee_portal.sandbox.models import FaultSettings, Subscription
from tests.sandbox.conftest import API, bearer
from tests.sandbox.helpers import PDF, b64_sha256, etat_civil_files, status_event

ATTACHMENT_ROUTE = "/teledossiers/v1/cases/{caseId}/attachments/{attachmentId}"


def _pdf_attachment(case) -> str:
    return str(case.attachments.get(file_name="ActeEtatCivil-PDF.pdf").id)


def test_server_errors_hit_the_first_attempt_only(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.set_faults(error_rate=1.0)

    notifications = client.list_notifications(25)
    data = client.get_case(str(case.id))
    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))
    client.delete_notification(notifications[0].id)

    assert data.external_id == case.external_id
    assert event.case_new_status == "SI_RECEIVED"
    assert services.status_pushes(case) == ["SI_RECEIVED"]  # never created twice
    counts = services.call_counts()
    # token, notifications, case, POST event, DELETE: one 5xx each; the POST's read-back GET
    # of the case is a second attempt at the case, so it passes.
    assert counts.server_errors == 5
    assert client.stats.retries == 5
    assert client.list_notifications(25) == []


def test_server_error_statuses_and_body(subscription: Subscription, raw: requests.Session) -> None:
    headers = bearer(raw, subscription)
    services.set_faults(error_rate=1.0)

    first = raw.get(f"{API}/notifications", headers=headers)
    second = raw.get(f"{API}/notifications", headers=headers)

    assert first.status_code in (500, 502, 503)
    assert first.json()["errors"][0]["code"] == first.status_code
    assert second.status_code == 200


def test_faults_per_resource_zero_hits_every_attempt(
    subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    client = make_client(subscription, retries=2)
    client.list_notifications(25)  # token first, before the fault
    services.set_faults(error_rate=1.0, faults_per_resource=0)

    with pytest.raises(TransientError):
        client.list_notifications(25)

    assert services.call_counts(path="/teledossiers/v1/notifications").server_errors == 3


def test_partial_error_rate_is_seeded_and_deterministic(db: None) -> None:
    def pattern(seed: int) -> list[bool]:
        settings_row = services.set_faults(seed=seed, error_rate=0.5)
        return [
            faults.server_error(settings_row, f"GET /cases/{i} [c]") is not None for i in range(40)
        ]

    first = pattern(7)
    assert pattern(7) == first  # set_faults restarts the attempt counts
    assert 5 < sum(first) < 35
    assert pattern(8) != first


def test_truncated_download_then_the_client_recovers(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    attachment_id = _pdf_attachment(case)
    services.set_faults(truncate_downloads=True)

    sink = io.BytesIO()
    # Without an expected size, only the transport's Content-Length check can see the cut.
    result = client.download_case_attachment(str(case.id), attachment_id, sink, None)

    assert sink.getvalue() == PDF
    assert result.size == len(PDF)
    assert services.call_counts(path=ATTACHMENT_ROUTE).calls == 2
    assert client.stats.retries == 1


def test_truncated_download_is_short_of_its_content_length(
    subscription: Subscription, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    url = f"{API}/cases/{case.id}/attachments/{_pdf_attachment(case)}"
    headers = bearer(raw, subscription)
    services.set_faults(truncate_downloads=True)

    response = raw.get(url, headers=headers, stream=True)
    received = bytearray()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in response.iter_content(1024):
            received.extend(chunk)

    assert response.headers["Content-Length"] == str(len(PDF))
    # Half the file at most (the chunk being read when the cut shows may be lost).
    assert 0 < len(received) <= len(PDF) // 2
    assert PDF.startswith(bytes(received))
    assert raw.get(url, headers=headers).content == PDF


def test_wrong_digest_then_the_client_recovers(
    subscription: Subscription, client: HubEEClient, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    attachment_id = _pdf_attachment(case)
    url = f"{API}/cases/{case.id}/attachments/{attachment_id}"
    services.set_faults(wrong_digest=True)

    wrong = raw.get(url, headers=bearer(raw, subscription))
    assert wrong.content == PDF
    assert wrong.headers["digest"] != b64_sha256(PDF)

    services.set_faults(wrong_digest=True)  # counts start again: the client meets the fault
    sink = io.BytesIO()
    result = client.download_case_attachment(str(case.id), attachment_id, sink, len(PDF))

    assert sink.getvalue() == PDF
    assert result.digest_checked
    assert client.stats.retries == 1


def test_wrong_digest_on_every_attempt_is_reported(
    subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client = make_client(subscription, retries=1)
    services.set_faults(wrong_digest=True, faults_per_resource=0)

    with pytest.raises(CorruptDownloadError) as caught:
        client.download_case_attachment(str(case.id), _pdf_attachment(case), io.BytesIO(), None)

    assert caught.value.actual_digest == b64_sha256(PDF)


def test_all_download_faults_at_once_each_hit_once(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.set_faults(error_rate=1.0, truncate_downloads=True, wrong_digest=True)

    sink = io.BytesIO()
    client.download_case_attachment(str(case.id), _pdf_attachment(case), sink, len(PDF))

    assert sink.getvalue() == PDF
    # 5xx, then a cut, then a wrong digest, then the file.
    counts = services.call_counts(path=ATTACHMENT_ROUTE)
    assert counts.calls == 4
    assert counts.server_errors == 1


def test_lost_answer_after_post_is_not_a_second_event(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.set_faults(drop_response_after_post=True)

    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))
    client.create_event(str(case.id), status_event("IN_PROGRESS"))  # 2nd attempt at the route

    assert event.case_new_status == "SI_RECEIVED"
    assert services.status_pushes(case) == ["SI_RECEIVED", "IN_PROGRESS"]
    events_route = "/teledossiers/v1/cases/{caseId}/events"
    assert services.call_counts(path=events_route).by_status == {504: 1, 201: 1}


def test_latency_per_call_and_per_new_connection(
    subscription: Subscription,
    make_client: Callable[..., HubEEClient],
    latency_sleeps: list[float],
) -> None:
    services.set_faults(latency_ms=20, connection_latency_ms=300)
    client = make_client(subscription)

    client.list_notifications(25)  # token + list, on one connection
    client.list_notifications(25)

    assert latency_sleeps == pytest.approx([0.32, 0.02, 0.02])
    assert services.call_counts().new_connections == 1


def test_reset_faults(db: None) -> None:
    services.set_faults(error_rate=1.0, latency_ms=5)

    settings_row = services.reset_faults()

    assert (settings_row.error_rate, settings_row.latency_ms) == (0.0, 0)
    assert FaultSettings.objects.count() == 1


def test_unknown_fault_is_refused(db: None) -> None:
    with pytest.raises(services.SandboxError):
        services.set_faults(typo=1)


def test_throttling_answers_429_before_processing_the_request(
    subscription: Subscription, raw: requests.Session
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    headers = bearer(raw, subscription)  # the token endpoint is not throttled
    services.set_faults(throttle_rate=1.0, throttle_retry_after=7)
    url = f"{API}/cases/{case.id}/events"

    refused = raw.post(url, json=status_event("SI_RECEIVED").to_api(), headers=headers)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"
    assert refused.json() == {
        "errors": [
            {"code": 900802, "message": "Message throttled out : You have exceeded your quota"}
        ]
    }
    assert services.status_pushes(case) == []  # not processed
    accepted = raw.post(url, json=status_event("SI_RECEIVED").to_api(), headers=headers)
    assert accepted.status_code == 201
    assert services.status_pushes(case) == ["SI_RECEIVED"]
    assert services.call_counts().throttled == 1


def test_client_waits_retry_after_then_sends_the_post_again_once(
    subscription: Subscription, client: HubEEClient, client_sleeps: list[float]
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.set_faults(throttle_rate=1.0, throttle_retry_after=3)

    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))

    assert event.case_new_status == "SI_RECEIVED"
    assert services.status_pushes(case) == ["SI_RECEIVED"]
    events_route = "/teledossiers/v1/cases/{caseId}/events"
    assert services.call_counts(path=events_route).by_status == {429: 1, 201: 1}
    # 429 means "not processed": no read-back of the case to look for a created event.
    assert services.call_counts(path="/teledossiers/v1/cases/{caseId}").calls == 0
    assert client_sleeps == [3.0]
    assert client.stats.retries == 1


def test_throttling_with_retry_after_zero_on_every_attempt(
    subscription: Subscription, make_client: Callable[..., HubEEClient], client_sleeps: list[float]
) -> None:
    client = make_client(subscription, retries=2)
    services.set_faults(throttle_rate=1.0, throttle_retry_after=0, faults_per_resource=0)

    with pytest.raises(TransientError) as caught:
        client.list_notifications(25)

    assert caught.value.status_code == 429 and caught.value.retry_after == 0.0
    assert client_sleeps == [0.0, 0.0]
    assert services.call_counts(path="/teledossiers/v1/notifications").throttled == 3
