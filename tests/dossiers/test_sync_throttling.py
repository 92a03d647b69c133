"""The gateway's throttling (429 + Retry-After, API.md §11): the sync waits and recovers."""

from __future__ import annotations

import random

import pytest

from demarches.hubee import config_for
from dossiers.enums import RunStatus
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Evenement
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services
from tests.dossiers.conftest import Hubee
from tests.dossiers.test_sync_faults import (
    DOWNLOADS,
    EVENTS,
    assert_all_handled,
    assert_every_file_identical,
    assert_one_push_per_case,
    complement,
    deposit_mix,
)

pytestmark = pytest.mark.django_db


def test_every_first_attempt_throttled_then_everything_arrives(hubee: Hubee) -> None:
    demarche = hubee.demarche("depotDossierPACS", rules={"allows_messages": True})
    rng = random.Random(21)
    cases = deposit_mix(hubee, demarche, 5, rng)
    slept: list[float] = []
    client = HubEEClient(config_for(demarche), session=hubee.session, sleep=slept.append)
    services.set_faults(throttle_rate=1.0, throttle_retry_after=0)

    first = sync_demarche(demarche, client=client, concurrency=1)
    # Events too: a complement to download, a message; the counts start again from zero.
    complement(cases[0], rng)
    services.osl_message(cases[1], "Pièce manquante ?")
    services.set_faults(throttle_rate=1.0, throttle_retry_after=0)
    second = sync_demarche(demarche, client=client, concurrency=1)

    assert (first.run.status, second.run.status) == (RunStatus.OK, RunStatus.OK)
    files = assert_every_file_identical(cases)
    assert_all_handled(demarche)
    assert_one_push_per_case(cases)
    assert Evenement.objects.filter(action_type="SENDING_MESSAGE").count() == 1
    counts = services.call_counts()
    assert counts.server_errors == 0
    # One 429 per resource: each list, each case, file, POST, event GET/PATCH and DELETE.
    assert counts.throttled >= 2 + 3 * len(cases) + files + 2 * 3
    assert services.call_counts(path=EVENTS).by_status == {429: len(cases), 201: len(cases)}
    for path in DOWNLOADS:
        by_status = services.call_counts(path=path).by_status
        assert by_status[429] == by_status[200]
    # Retry-After: 0 was honoured, instead of the client's own jittered backoff.
    assert client.stats.retries == counts.throttled
    assert slept == [0.0] * counts.throttled
