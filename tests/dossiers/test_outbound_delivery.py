"""The outbox's schedule on the rows: backoff, claim, and what the periodic delivery takes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers.enums import AttachmentState
from dossiers.exchange.outbound import delivery
from dossiers.models import OutgoingEvent, PieceJointe
from tests.factories import DossierFactory

pytestmark = pytest.mark.django_db


def test_backoff_doubles_from_30_seconds_up_to_15_minutes():
    assert [OutgoingEvent.backoff(n).total_seconds() for n in range(1, 8)] == [
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]


def push(dossier, **kwargs):
    return OutgoingEvent.objects.create(
        dossier=dossier, case_new_status="DONE", author="Agent", **kwargs
    )


def test_a_claim_is_won_once_and_only_on_due_rows():
    dossier = DossierFactory()
    first, second = push(dossier), push(dossier)
    now = timezone.now()
    until = now + timedelta(seconds=130)
    assert OutgoingEvent.objects.claim(dossier.pk, now, until, due_only=True) == 2
    # Taken: another delivery at the same moment gets nothing.
    assert OutgoingEvent.objects.claim(dossier.pk, now, until, due_only=True) == 0
    assert {
        o.next_attempt_at for o in OutgoingEvent.objects.filter(pk__in=[first.pk, second.pk])
    } == {until}
    # Due again once `until` has passed (a delivery killed midway), and an agent forces it.
    assert OutgoingEvent.objects.claim(dossier.pk, until, until, due_only=True) == 2
    assert OutgoingEvent.objects.claim(dossier.pk, now, until, due_only=False) == 2


def test_automatic_statuses_wait_for_the_files(monkeypatch):
    """A full disk left a file to download: « reçu » is not pushed before it is stored."""
    dossier = DossierFactory()
    push(dossier, automatic=True)
    piece = PieceJointe.objects.create(
        dossier=dossier,
        hubee_attachment_id="3f1b7a52-4c1e-4e9b-9a51-5d0f8a2f0c11",
        file_name="demande.pdf",
        state=AttachmentState.PENDING,
    )
    tried = []
    monkeypatch.setattr(delivery, "_deliver", lambda d, client=None: tried.append(d.pk))
    assert delivery.deliver_due(dossier.demarche).tried == 0
    PieceJointe.objects.filter(pk=piece.pk).update(state=AttachmentState.STORED)
    assert delivery.deliver_due(dossier.demarche).tried == 1
    assert tried == [dossier.pk]
