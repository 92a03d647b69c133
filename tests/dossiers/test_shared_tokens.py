"""HubEE tokens shared across processes (issue 22): a démarche asks for one token per
lifetime, however many worker processes start; stored encrypted; a rejected or changed one is
never reused."""

from __future__ import annotations

import pytest
import requests

from demarches import access_tokens
from demarches import hubee as demarche_clients
from demarches.access_tokens import AccessToken
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.transport import SandboxAdapter
from tests.dossiers.conftest import BASE

TOKEN = "POST /sandbox/oauth2/token"


@pytest.fixture
def clients(hubee, monkeypatch):
    """client_for as in production, its sessions talking to the in-process sandbox."""

    def sandbox_session(config):
        session = requests.Session()
        session.mount(f"{BASE}/", SandboxAdapter())
        return session

    monkeypatch.setattr(demarche_clients, "new_session", sandbox_session)
    demarche_clients.forget_clients()
    yield demarche_clients
    demarche_clients.forget_clients()


def token_requests(demarche) -> int:
    return sandbox.call_counts(client_id=demarche.client_id, method="POST").calls


def new_process(clients):
    """What a new worker process has: no client, no token in memory."""
    clients.forget_clients()


def test_a_new_process_reuses_the_stored_token(clients, hubee):
    demarche = hubee.demarche("EtatCivil", enabled=True)
    for _ in range(3):
        clients.client_for(demarche).list_notifications(1)
        new_process(clients)
    assert token_requests(demarche) == 1
    assert AccessToken.objects.count() == 1


def test_the_token_is_stored_encrypted(clients, hubee):
    demarche = hubee.demarche("EtatCivil", enabled=True)
    client = clients.client_for(demarche)
    client.list_notifications(1)
    token = client._transport.tokens.get()
    row = AccessToken.objects.get()
    assert token not in row.token_encrypted
    assert demarche.client_secret not in row.key and demarche.client_id not in row.key
    assert access_tokens.STORE.load(row.key)[0] == token


def test_a_rejected_token_is_replaced_in_the_store(clients, hubee):
    demarche = hubee.demarche("EtatCivil", enabled=True)
    clients.client_for(demarche).list_notifications(1)
    first = AccessToken.objects.get().token_encrypted
    sandbox.expire_tokens()  # HubEE no longer accepts it (401)
    new_process(clients)
    clients.client_for(demarche).list_notifications(1)
    assert token_requests(demarche) == 2
    row = AccessToken.objects.get()
    assert row.token_encrypted != first


def test_a_changed_secret_never_reuses_the_old_token(clients, hubee):
    demarche = hubee.demarche("EtatCivil", enabled=True)
    clients.client_for(demarche).list_notifications(1)
    (old_key,) = AccessToken.objects.values_list("key", flat=True)
    sandbox.create_subscription("EtatCivil", "autre-client", "autre-secret")
    demarche.client_id, demarche.client_secret = "autre-client", "autre-secret"
    demarche.save()
    new_process(clients)
    clients.client_for(demarche).list_notifications(1)
    assert sandbox.call_counts(client_id="autre-client", method="POST").calls == 1
    assert set(AccessToken.objects.values_list("key", flat=True)) - {old_key}


def test_an_unreadable_store_falls_back_to_asking_hubee(clients, hubee, monkeypatch):
    demarche = hubee.demarche("EtatCivil", enabled=True)

    def broken(*args):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(access_tokens.STORE, "load", broken)
    monkeypatch.setattr(access_tokens.STORE, "save", broken)
    assert clients.client_for(demarche).list_notifications(1) == []
    assert token_requests(demarche) == 1


def test_expired_tokens_are_purged(clients, hubee):
    from django.utils import timezone

    demarche = hubee.demarche("EtatCivil", enabled=True)
    clients.client_for(demarche).list_notifications(1)
    assert access_tokens.purge_expired() == 0
    AccessToken.objects.update(expires_at=timezone.now())
    assert access_tokens.purge_expired() == 1
