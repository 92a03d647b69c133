"""Operations tests: the sandbox (deposit and sync as in production) and a healthy baseline."""

from __future__ import annotations

import pytest

from dossiers.operations import health
from tests.dossiers.conftest import Hubee, hubee, pdf_bytes  # noqa: F401  (fixture)

APPLICANT = {"firstName": "Philomène", "lastName": "Zébulon-Quintard", "email": "pzq@exemple.fr"}


@pytest.fixture
def big_disk(monkeypatch):
    """Plenty of free space unless a test says otherwise."""
    monkeypatch.setattr(health, "disk_usage", lambda path: (500 * 1024**3, 1000 * 1024**3, 1))


@pytest.fixture
def healthy(hubee, big_disk):  # noqa: F811
    """An active démarche with one synced dossier of a known applicant, a beating worker."""
    demarche = hubee.demarche("EtatCivil")
    hubee.deposit(demarche, applicant=APPLICANT)
    hubee.sync(demarche)
    health.beat()
    return demarche
