"""HubEE never redirects: the client follows no redirect, on the token call nor on the API."""

from __future__ import annotations

import pytest
import responses

from hubee_portal.hubee import HubEEClient, RedirectError
from tests.hubee.helpers import BASE, CASE_ID, TOKEN_URL, add_token

ELSEWHERE = "https://elsewhere.example/collect"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_token_call_follows_no_redirect(
    rsps: responses.RequestsMock, client: HubEEClient, status: int
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=status, headers={"Location": ELSEWHERE})
    rsps.add(responses.POST, ELSEWHERE, json={"access_token": "volé", "expires_in": 3600})
    rsps.add(responses.GET, ELSEWHERE, json={"access_token": "volé", "expires_in": 3600})

    with pytest.raises(RedirectError) as info:
        client.check_credentials()

    assert [call.request.url for call in rsps.calls] == [TOKEN_URL]
    assert info.value.status_code == status
    assert not info.value.transient


def test_api_call_follows_no_redirect(rsps: responses.RequestsMock, client: HubEEClient) -> None:
    add_token(rsps)
    case_url = f"{BASE}/cases/{CASE_ID}"
    same_host = f"{BASE}/cases/{CASE_ID}/ailleurs"
    rsps.add(responses.GET, case_url, status=302, headers={"Location": same_host})
    rsps.add(responses.GET, same_host, json={"id": CASE_ID})

    with pytest.raises(RedirectError) as info:
        client.get_case(CASE_ID)

    assert [call.request.url for call in rsps.calls] == [TOKEN_URL, case_url]
    assert info.value.status_code == 302
