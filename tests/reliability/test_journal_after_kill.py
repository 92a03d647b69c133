"""A notification that failed once, then was handled by a run killed right after HubEE deleted
it: the journal must not keep it as a failure still pending (found by test_crash.py)."""

from __future__ import annotations

import pytest

from dossiers.models import NotificationFailure
from hubee_portal.hubee import HubEEClient, TransientError
from hubee_portal.sandbox import services as sandbox
from tests.dossiers.conftest import Hubee

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """Not an Exception: nothing in the sync catches it, as with kill -9."""


@pytest.fixture
def hubee(tmp_path):
    return Hubee(tmp_path)


def test_a_failure_handled_by_a_run_killed_after_the_deletion_is_not_left_pending(
    hubee, monkeypatch
):
    demarche = hubee.demarche()
    hubee.deposit(demarche)

    def unavailable(self, case_id, lite=False):
        raise TransientError("HubEE indisponible", status_code=503)

    with monkeypatch.context() as patch:
        patch.setattr(HubEEClient, "get_case", unavailable)
        assert hubee.sync(demarche).pending_failures == 1

    real_delete = HubEEClient.delete_notification

    def delete_then_die(self, notification_id):
        real_delete(self, notification_id)
        raise Killed

    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr(HubEEClient, "delete_notification", delete_then_die)
        hubee.sync(demarche)
    assert sandbox.pending_si_notifications(demarche.subscription) == 0

    outcome = hubee.sync(demarche)
    assert outcome.pending_failures == 0
    assert not NotificationFailure.objects.filter(resolved_at__isnull=True).exists()
