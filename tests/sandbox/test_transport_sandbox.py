"""The in-process requests transport: streaming both ways and connection accounting."""

from __future__ import annotations

import io

import requests

from hubee_portal.sandbox import services
from hubee_portal.sandbox.models import CallLog, Subscription
from hubee_portal.sandbox.transport import SandboxAdapter, sandbox_session
from tests.sandbox.conftest import API, BASE, bearer
from tests.sandbox.helpers import PDF, etat_civil_files


def test_one_session_reuses_its_connection(subscription: Subscription) -> None:
    with sandbox_session(f"{BASE}/") as session:
        headers = bearer(session, subscription)
        session.get(f"{API}/notifications", headers=headers)
        session.get(f"{API}/notifications", headers=headers)
    with sandbox_session(f"{BASE}/") as other:
        bearer(other, subscription)

    logs = list(CallLog.objects.values_list("new_connection", "connection_id"))
    assert [new for new, _ in logs] == [True, False, False, True]
    assert len({connection for _, connection in logs}) == 2


def test_overlapping_responses_open_a_second_connection(subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    attachment = case.attachments.get(type="ActeEtatCivil-PDF")
    adapter = SandboxAdapter()
    session = requests.Session()
    session.mount(f"{BASE}/", adapter)
    headers = bearer(session, subscription)
    url = f"{API}/cases/{case.id}/attachments/{attachment.id}"

    first = session.get(url, headers=headers, stream=True)  # still being read...
    second = session.get(url, headers=headers)  # ...so this one needs another connection
    body = first.raw.read()
    first.close()
    session.get(f"{API}/notifications", headers=headers)

    assert body == second.content == PDF
    assert adapter.connections_opened == 2
    assert list(CallLog.objects.values_list("new_connection", flat=True)) == [
        True,
        False,
        True,
        False,
    ]


def test_streamed_download_arrives_in_chunks(subscription: Subscription) -> None:
    content = bytes(range(256)) * 8192  # 2 MiB
    case = services.deposit_case(
        subscription, files=[("big.bin", "documents", "application/octet-stream", content)]
    )
    attachment = case.attachments.get()

    with sandbox_session(f"{BASE}/") as session:
        response = session.get(
            f"{API}/cases/{case.id}/attachments/{attachment.id}",
            headers=bearer(session, subscription),
            stream=True,
        )
        chunks = list(response.iter_content(64 * 1024))

    assert len(chunks) == len(content) // (64 * 1024)
    assert b"".join(chunks) == content


def test_upload_from_a_file_object(subscription: Subscription) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    with sandbox_session(f"{BASE}/") as session:
        headers = bearer(session, subscription)
        event = session.post(
            f"{API}/cases/{case.id}/events",
            json={
                "actionType": "ATTACH_DEPOSIT",
                "notification": True,
                "attachments": [
                    {"fileName": "r.pdf", "type": "t", "size": len(PDF), "mimeType": "a/b"}
                ],
            },
            headers=headers,
        ).json()
        attachment_id = event["attachments"][0]["id"]
        url = f"{API}/cases/{case.id}/events/{event['id']}/attachments/{attachment_id}"

        upload = session.put(url, data=io.BytesIO(PDF), headers=headers)
        download = session.get(url, headers=headers)

    assert upload.status_code == 204
    assert download.content == PDF


def test_host_header_defaults_to_testserver_and_can_follow_the_url(
    subscription: Subscription, settings
) -> None:
    with sandbox_session(f"{BASE}/", host=None) as session:
        refused = session.get(f"{API}/notifications")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "sandbox.test"]
    with sandbox_session(f"{BASE}/", host=None) as session:
        accepted = session.get(f"{API}/notifications")

    assert refused.status_code == 400  # DisallowedHost
    assert accepted.status_code == 401
