"""Operations tests: the sandbox (deposit and sync as in production) and a healthy baseline."""

from __future__ import annotations

import uuid
from datetime import timedelta

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


def grow_fleet(count: int, now=None) -> list:
    """`count` more démarches with what the staff pages read of each: a journaled run (its
    last pass, through the signal), a failed one with HubEE's text, a dossier due at the next
    purge, an integrity check, a push waiting and a given-up notification (a problem each)."""
    from django.utils import timezone

    from dossiers.enums import FailureKind, RunFailure, RunStatus
    from dossiers.models import IntegrityCheck, NotificationFailure, OutgoingEvent, SyncRun
    from tests.factories import DemarcheFactory, DossierFactory

    now = now or timezone.now()
    demarches = []
    for index in range(count):
        demarche = DemarcheFactory(retention_months=[12, 24, 36][index % 3])
        SyncRun.objects.create(demarche=demarche, status=RunStatus.OK, finished_at=now)
        SyncRun.objects.create(
            demarche=demarche,
            status=RunStatus.FAILED,
            failure_kind=RunFailure.HUBEE,
            finished_at=now,
            message="HubEE injoignable ou en erreur : HTTP 502",
        )
        closed = DossierFactory(
            demarche=demarche, status="DONE", hubee_closed_at=now - timedelta(days=4 * 365)
        )
        DossierFactory(demarche=demarche)
        IntegrityCheck.objects.create(demarche=demarche, files_checked=1, finished_at=now)
        OutgoingEvent.objects.create(dossier=closed, author="Agent", message="Bonjour")
        NotificationFailure.objects.create(
            demarche=demarche,
            notification_id=uuid.uuid4(),
            kind=FailureKind.NOT_FOUND,
            error="404",
            given_up=True,
        )
        demarches.append(demarche)
    return demarches
