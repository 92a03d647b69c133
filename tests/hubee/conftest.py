from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from hubee_portal.hubee import HubEEClient, HubEEConfig
from tests.hubee.helpers import (
    API_URL,
    APPLICATION,
    CLIENT_ID,
    EDITOR,
    SECRET,
    TOKEN_URL,
    VERSION,
    FakeClock,
    MaxRng,
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def rng() -> MaxRng:
    return MaxRng()


@pytest.fixture
def make_client(
    clock: FakeClock, sleeps: list[float], rng: MaxRng
) -> Iterator[Callable[..., HubEEClient]]:
    clients: list[HubEEClient] = []

    def make(**overrides: Any) -> HubEEClient:
        values: dict[str, Any] = {
            "token_url": TOKEN_URL,
            "api_url": API_URL,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "editor_name": EDITOR,
            "application_name": APPLICATION,
            "software_version": VERSION,
        }
        values.update(overrides)
        client = HubEEClient(HubEEConfig(**values), sleep=sleeps.append, monotonic=clock, rng=rng)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HubEEClient]) -> HubEEClient:
    return make_client()
