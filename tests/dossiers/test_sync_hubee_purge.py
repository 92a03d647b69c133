"""HubEE's own purge (API.md §9.4), run on the sandbox's clock, against the portal's sync.

A portal that syncs promptly has everything before HubEE deletes anything; one that comes too
late keeps a trace of what it could not get; a case HubEE deleted is given up like any 404.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dossiers.enums import AttachmentState, FailureKind, RunStatus
from dossiers.exchange.inbound.mapping import _unavailable_reason
from dossiers.models import Dossier, NotificationFailure, PieceJointe
from dossiers.web.detail import piece_row
from hubee_portal.sandbox import services
from hubee_portal.sandbox.enums import AttachmentStatus, CaseStatus
from hubee_portal.sandbox.models import Attachment, Case
from tests.dossiers.conftest import Hubee
from tests.dossiers.test_sync_faults import (
    assert_all_handled,
    assert_every_file_identical,
    assert_one_push_per_case,
    deposit_mix,
)

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def days_later(days: int) -> services.PurgeResult:
    return services.run_purge(now=timezone.now() + days * DAY)


def stored_state() -> dict[str, Any]:
    """What the portal holds of each file: its row and its bytes on disk."""
    return {
        str(piece.hubee_attachment_id): (
            piece.state,
            piece.hubee_status,
            piece.sha256,
            piece.size,
            piece.stored_path,
            piece.absolute_path.read_bytes(),
        )
        for piece in PieceJointe.objects.all()
    }


def test_prompt_portal_has_every_file_before_hubee_purges(hubee: Hubee) -> None:
    demarche = hubee.demarche("EtatCivil", rules={"allows_messages": True})
    rng = random.Random(11)
    cases = deposit_mix(hubee, demarche, 4, rng)

    first = hubee.sync(demarche)

    assert first.run.status == RunStatus.OK, first.run.message
    files = assert_every_file_identical(cases)
    assert_one_push_per_case(cases)
    before = stored_state()
    assert len(before) == files
    # The operator goes on with two cases, then HubEE's daily purges pass.
    services.osl_message(cases[0], "Votre acte a été envoyé.")
    services.osl_close(cases[1])
    purge = days_later(3)
    second = hubee.sync(demarche)
    removal = days_later(40)
    third = hubee.sync(demarche)

    # HubEE did purge: every deposited file deleted, the closed case archived then deleted.
    assert (purge.files_deleted, purge.cases_archived) == (files, 1)
    assert removal.cases_deleted == 1
    assert set(Attachment.objects.values_list("status", flat=True)) == {AttachmentStatus.DELETED}
    assert Case.objects.get(pk=cases[1].pk).purged
    # And nothing the portal stored changed.
    assert (second.run.status, third.run.status) == (RunStatus.OK, RunStatus.OK)
    assert stored_state() == before
    assert Dossier.objects.count() == len(cases)
    assert not Dossier.objects.filter(purged_at__isnull=False).exists()
    assert Dossier.objects.get(hubee_case_id=cases[1].id).status == CaseStatus.CLOSED
    assert_all_handled(demarche)


def test_files_hubee_purged_before_the_first_sync_are_marked_unavailable(hubee: Hubee) -> None:
    # A démarche whose files go as soon as HubEE notified the case, and a portal down 3 days.
    demarche = hubee.demarche("recensementCitoyen")
    services.set_retention(
        demarche.subscription,
        status_before_file_deletion=CaseStatus.HUBEE_NOTIFIED,
        time_before_file_deletion=1,
    )
    rng = random.Random(12)
    late = deposit_mix(hubee, demarche, 2, rng)
    purge = days_later(3)
    fresh = deposit_mix(hubee, demarche, 3, rng)  # deposited after the purge: still there

    outcome = hubee.sync(demarche)

    lost = sum(case.attachments.count() for case in late)
    assert purge.files_deleted == lost > 0
    assert outcome.run.status == RunStatus.OK, outcome.run.message
    # The dossiers are there, each file listed with why it is missing: nothing lost silently.
    reason = _unavailable_reason("DELETED")
    for case in late:
        dossier = Dossier.objects.get(hubee_case_id=case.id)
        pieces = list(dossier.pieces_jointes.all())
        assert {str(p.hubee_attachment_id) for p in pieces} == {
            str(a.id) for a in case.attachments.all()
        }
        for piece in pieces:
            assert (piece.state, piece.hubee_status) == (AttachmentState.UNAVAILABLE, "DELETED")
            assert piece.state_detail == reason
            assert not piece.absolute_path.exists()
            row = piece_row(piece)
            assert not row.downloadable and row.explanation == reason
    # The other cases of the run got every file.
    assert_every_file_identical(fresh)
    assert_all_handled(demarche)
    assert outcome.run.files_downloaded == sum(case.attachments.count() for case in fresh)


def test_case_deleted_by_hubee_with_a_pending_notification_is_given_up(hubee: Hubee) -> None:
    hubee.connection.not_found_attempts = 3
    hubee.connection.save()
    demarche = hubee.demarche("EtatCivil", rules={"allows_messages": True})
    rng = random.Random(13)
    known, kept = deposit_mix(hubee, demarche, 2, rng)
    hubee.sync(demarche)
    # Closed by the operator while the portal was away (its closure still waits for it), and
    # one never received at all; HubEE archives both, then deletes them 30 days later.
    services.osl_close(known)
    (never_seen,) = deposit_mix(hubee, demarche, 1, rng)
    services.osl_close(never_seen)
    removal = days_later(32)
    assert (removal.cases_archived, removal.cases_deleted) == (2, 2)
    newer = deposit_mix(hubee, demarche, 2, rng)

    outcomes = [hubee.sync(demarche) for _ in range(3)]

    assert [o.run.status for o in outcomes] == [RunStatus.PARTIAL] * 3
    failures = NotificationFailure.objects.all()
    assert {f.case_id for f in failures} == {known.id, never_seen.id}
    for failure in failures:
        assert failure.given_up and failure.given_up_at is not None
        assert failure.kind == FailureKind.NOT_FOUND and failure.not_found_runs == 3
        assert "is not found" in failure.error
    # Two notifications for the case never seen (deposit, closure), one for the known case.
    assert failures.count() == 3
    assert services.pending_si_notifications(demarche.subscription) == 0
    # The run went on: the newer cases arrived whole, the known dossier kept its files.
    assert_every_file_identical(newer)
    assert_one_push_per_case([kept, *newer])
    known_dossier = Dossier.objects.get(hubee_case_id=known.id)
    assert {p.state for p in known_dossier.pieces_jointes.all()} == {AttachmentState.STORED}
    assert not Dossier.objects.filter(hubee_case_id=never_seen.id).exists()
    assert hubee.sync(demarche).run.status == RunStatus.OK
