from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hubee_portal.hubee import HubEEClient, HubEEConfig
from hubee_portal.sandbox import faults, services
from hubee_portal.sandbox.models import Subscription
from hubee_portal.sandbox.transport import sandbox_session

BASE = "http://sandbox.test"
TOKEN_URL = f"{BASE}/sandbox/oauth2/token"
API_URL = f"{BASE}/sandbox"
API = f"{BASE}/sandbox/teledossiers/v1"
APPLICATION = "HubEE Portal (tests)"


@pytest.fixture(autouse=True)
def sandbox_dir(settings: Any, tmp_path: Path) -> Path:
    # Each test gets its own attachment folder.
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR / "sandbox"


@pytest.fixture
def subscription(db: None) -> Subscription:
    return services.create_subscription(
        "EtatCivil",
        "client-etatcivil",
        "secret-etatcivil",
        allows_messages=True,
        allows_add_awaiting=True,
        allows_document_return=True,
    )


@pytest.fixture
def strict_subscription(db: None) -> Subscription:
    """A démarche like CERTDC: no messages, no complements, no returned documents."""
    return services.create_subscription("CERTDC", "client-certdc", "secret-certdc")


@pytest.fixture
def client_sleeps() -> list[float]:
    return []


@pytest.fixture
def latency_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Sleeps the sandbox makes for latency faults, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(faults, "sleep", recorded.append)
    return recorded


@pytest.fixture
def make_client(client_sleeps: list[float]) -> Iterator[Callable[..., HubEEClient]]:
    """A real HubEEClient talking to the sandbox in-process."""
    sessions: list[requests.Session] = []

    def make(
        subscription: Subscription, *, session: requests.Session | None = None, **kwargs: Any
    ) -> HubEEClient:
        if session is None:
            session = sandbox_session(f"{BASE}/")
            sessions.append(session)
        client_options = {k: kwargs.pop(k) for k in ("monotonic",) if k in kwargs}
        config = HubEEConfig(
            token_url=TOKEN_URL,
            api_url=API_URL,
            client_id=subscription.client_id,
            client_secret=subscription.client_secret,
            editor_name="COMMUNE DE NICE",
            application_name=APPLICATION,
            software_version="0.1.0",
            **kwargs,
        )
        return HubEEClient(config, session=session, sleep=client_sleeps.append, **client_options)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def client(subscription: Subscription, make_client: Callable[..., HubEEClient]) -> HubEEClient:
    return make_client(subscription)


@pytest.fixture
def raw() -> Iterator[requests.Session]:
    """A plain session on the sandbox, for what the client refuses to send."""
    session = sandbox_session(f"{BASE}/")
    yield session
    session.close()


def bearer(raw: requests.Session, subscription: Subscription) -> dict[str, str]:
    response = raw.post(
        TOKEN_URL,
        auth=(subscription.client_id, subscription.client_secret),
        data={"grant_type": "client_credentials", "scope": "SI"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
