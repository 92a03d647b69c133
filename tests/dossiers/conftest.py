"""Sync tests run against the built-in sandbox, in-process (no server, no network)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from demarches.hubee import config_for
from demarches.models import Demarche
from dossiers.exchange.inbound.listing import sync_demarche
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.transport import SandboxAdapter
from tests.factories import DemarcheFactory, HubEEConnectionFactory

BASE = "http://sandbox.test"


def pdf_bytes(label: str, size: int = 2048) -> bytes:
    body = f"%PDF-1.4\n% {label}\n".encode()
    return body + hashlib.sha256(label.encode()).digest() * (size // 32)


class Hubee:
    """The sandbox as the tests use it: deposit as the OSL, sync as the SI."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.session = requests.Session()
        self.session.mount(f"{BASE}/", SandboxAdapter())
        self.connection = HubEEConnectionFactory(
            name="Bac à sable",
            environment="autre",
            token_url=f"{BASE}/sandbox/oauth2/token",
            api_url=f"{BASE}/sandbox",
        )
        self.clients: dict[int, HubEEClient] = {}

    def demarche(self, process_code="EtatCivil", **kwargs) -> Demarche:
        client_id = kwargs.pop("client_id", f"client-{process_code}")
        secret = kwargs.pop("client_secret", f"secret-{process_code}")
        rules = kwargs.pop("rules", {})
        subscription = sandbox.create_subscription(process_code, client_id, secret, **rules)
        demarche = DemarcheFactory(
            process_code=process_code,
            name=process_code,
            connection=self.connection,
            client_id=client_id,
            client_secret=kwargs.pop("real_secret", secret),
            download_folder=str(self.tmp_path / "telechargements" / process_code),
            **kwargs,
        )
        demarche.subscription = subscription
        return demarche

    def client(self, demarche: Demarche) -> HubEEClient:
        if demarche.pk not in self.clients:
            self.clients[demarche.pk] = HubEEClient(
                config_for(demarche), session=self.session, sleep=lambda s: None
            )
        return self.clients[demarche.pk]

    def sync(self, demarche: Demarche, concurrency: int = 1):
        return sync_demarche(demarche, client=self.client(demarche), concurrency=concurrency)

    def deposit(self, demarche: Demarche, files=None, **kwargs):
        if files is None:
            files = [
                ("demande.pdf", "ActeEtatCivil-PDF", "application/pdf", pdf_bytes("demande")),
                ("demande.xml", "ActeEtatCivil-XML", "application/xml", b"<Demande/>"),
            ]
        kwargs.setdefault(
            "applicant", {"firstName": "Camille", "lastName": "Martin", "email": "c@ex.fr"}
        )
        return sandbox.deposit_case(demarche.subscription, files=files, **kwargs)


@pytest.fixture
def hubee(db, tmp_path):
    return Hubee(tmp_path)
