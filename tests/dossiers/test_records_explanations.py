"""What agents read about failures: a French sentence per code, never an HTTP code, a path or
HubEE's own words; the technical text stays for the staff."""

from __future__ import annotations

import re

import pytest

from dossiers.enums import AttachmentState, FailureKind, RunFailure, RunStatus
from dossiers.models import NotificationFailure, PieceJointe
from dossiers.records import explanations
from hubee_portal.hubee import Reason
from hubee_portal.sandbox import services
from tests.dossiers.conftest import Hubee

# The words the fault test (tests/browser/test_browser_french.py) refuses on an agent page.
TECHNICAL = re.compile(r"\b(HTTP|Traceback|None|error|rejected|invalid|failed)\b|GET /|POST /")
# And what a French sentence for an agent must not carry either.
CODES = re.compile(r"\b[1-5]\d\d\b|/teledossiers|\bHubEE (server|rejected|denied|throttled)")


def assert_agent_sentence(text: str) -> None:
    assert text and (text[0].isupper() or text[0].isdigit()) and text.endswith("."), text
    assert not TECHNICAL.search(text), text
    assert not CODES.search(text), text


@pytest.mark.parametrize("kind", [*RunFailure.values, "unknown"])
def test_each_run_failure_has_a_sentence(kind):
    assert_agent_sentence(explanations.run_failure(kind))


def test_run_failures_say_different_things():
    sentences = {explanations.run_failure(kind) for kind in RunFailure.values if kind}
    assert len(sentences) == len([kind for kind in RunFailure.values if kind])


@pytest.mark.parametrize(
    ("status", "kind", "errors"),
    [
        (RunStatus.FAILED, RunFailure.HUBEE, 1),
        (RunStatus.FAILED, RunFailure.CREDENTIALS, 1),
        (RunStatus.PARTIAL, "", 2),
        (RunStatus.PARTIAL, "", 1),
        (RunStatus.PARTIAL, "", 0),
        (RunStatus.SKIPPED, "", 0),
    ],
)
def test_run_outcomes(status, kind, errors):
    assert_agent_sentence(explanations.run_outcome(status, kind, errors))


def test_a_run_outcome_counts_in_french():
    assert explanations.run_outcome(RunStatus.PARTIAL, "", 2).startswith(
        "2 notifications non traitées, conservées sur HubEE"
    )
    assert explanations.run_outcome(RunStatus.PARTIAL, "", 1).startswith(
        "1 notification non traitée, conservée sur HubEE"
    )


@pytest.mark.parametrize("status", [RunStatus.OK, RunStatus.RUNNING])
def test_a_good_run_needs_no_message(status):
    assert explanations.run_outcome(status, "", 0) == ""


def test_the_hubee_run_failure_gives_the_real_interval(settings):
    settings.HUBEE_SYNC_INTERVAL_MINUTES = 10
    assert "dans 10 minutes au plus" in explanations.run_failure(RunFailure.HUBEE)
    assert explanations.sync_interval() == "toutes les 10 minutes"
    settings.HUBEE_SYNC_INTERVAL_MINUTES = 1
    assert explanations.sync_interval() == "toutes les minutes"


@pytest.mark.parametrize("kind", [*FailureKind.values, "unknown"])
@pytest.mark.parametrize("given_up", [False, True])
def test_each_notification_failure_has_a_sentence(kind, given_up):
    assert_agent_sentence(explanations.notification_failure(kind, given_up))
    label = explanations.failure_label(kind)
    assert label and not CODES.search(label) and not TECHNICAL.search(label)


@pytest.mark.parametrize("reason", list(Reason))
def test_each_hubee_reason_has_a_sentence(reason):
    assert_agent_sentence(explanations.hubee_reason(reason))


def test_throttling_and_unreachable_are_told_apart():
    assert explanations.hubee_reason(Reason.THROTTLED) != explanations.hubee_reason(Reason.REFUSED)
    # One sentence for every connection failure: the page is no port scanner.
    assert len({explanations.hubee_reason(r) for r in (Reason.DNS, Reason.REFUSED)}) == 1


def test_the_corrupt_download_text_is_for_agents():
    assert_agent_sentence(explanations.CORRUPT_DOWNLOAD)


@pytest.mark.django_db
def test_a_file_that_keeps_failing_its_digest_tells_agents_in_french(hubee: Hubee):
    demarche = hubee.demarche("EtatCivil")
    hubee.deposit(demarche)
    services.set_faults(wrong_digest=True, faults_per_resource=0)

    hubee.sync(demarche)

    # The first file of the case fails: the case waits, its other files too.
    piece = PieceJointe.objects.get(state=AttachmentState.CORRUPT)
    assert piece.state_detail == explanations.CORRUPT_DOWNLOAD
    # The technical detail is kept for the staff (admin journal).
    failure = NotificationFailure.objects.get()
    assert failure.kind == FailureKind.TRANSIENT
    assert "sha-256" in failure.error
