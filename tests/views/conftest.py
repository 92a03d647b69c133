"""Agent pages against the built-in sandbox, in-process: deposit as the OSL, sync, then use
the pages as an agent would. Tasks run inline (Q_CLUSTER sync) and reach the same sandbox."""

from __future__ import annotations

import pytest

from dossiers.exchange import connection
from tests.conftest import log_in
from tests.dossiers.conftest import Hubee, hubee, pdf_bytes  # noqa: F401  (fixture)
from tests.factories import agent_for


@pytest.fixture
def portal(hubee, monkeypatch):  # noqa: F811
    """The sandbox, with the tasks' HubEE clients pointed at it."""
    monkeypatch.setattr(connection, "client_for", hubee.client)
    return hubee


@pytest.fixture
def login(client):
    """Log a user in on the test client and return it."""

    def _login(user):
        return log_in(client, user)

    return _login


def received_dossier(portal, demarche, **kwargs):
    """Deposit a case on the sandbox and sync it; returns (sandbox case, Dossier)."""
    from dossiers.models import Dossier

    case = portal.deposit(demarche, **kwargs)
    portal.sync(demarche)
    return case, Dossier.objects.get(hubee_case_id=case.id)


__all__ = ["Hubee", "agent_for", "pdf_bytes", "received_dossier"]
