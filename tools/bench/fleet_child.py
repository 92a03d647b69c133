"""Fleet benchmark (issue 22): what runs inside its child processes (after django.setup()).

Two installs share nothing but HTTP: the portal's database holds the organisations and
démarches, the sandbox's database the subscriptions, the télédossiers and the call log. The
`portal_*` functions run with the portal's DATABASE_URL, the `sandbox_*` ones with the
sandbox's; each prints its result as one JSON line (install.emit).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

# The real démarches of HubEE (hubee_portal.sandbox.services.deposits.PROCESS_LABELS).
PROCESS_CODES = ["EtatCivil", "recensementCitoyen", "depotDossierPACS", "JeChangeDeCoordonnees"]
PER_ORGANISATION = len(PROCESS_CODES)
PUSHED_STATUS = "SI_RECEIVED"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a route, not a secret
LIST_PATH = "/teledossiers/v1/notifications"


def client_id(number: int) -> str:
    return f"flotte-{number:05d}"


def client_secret(number: int) -> str:
    return f"secret-flotte-{number:05d}"


def portal_setup(base_url: str, demarches: int, folders: str) -> None:
    """N enabled démarches, 4 per organisation (one per real process code), on one
    connection to the sandbox server; their folders under `folders`."""
    from django.db import transaction

    from demarches.models import Demarche, HubEEConnection, Organisation
    from tools.bench.install import emit

    connection = HubEEConnection.objects.create(
        name="Bac à sable (flotte)",
        environment="autre",
        token_url=f"{base_url}/sandbox/oauth2/token",
        api_url=f"{base_url}/sandbox",
    )
    with transaction.atomic():
        organisation = None
        for number in range(demarches):
            code = PROCESS_CODES[number % PER_ORGANISATION]
            if number % PER_ORGANISATION == 0:
                index = number // PER_ORGANISATION
                organisation = Organisation.objects.create(
                    name=f"Collectivité {index + 1:04d}", siret=f"2{index:013d}"
                )
            demarche = Demarche(
                name=f"{code} {number // PER_ORGANISATION + 1:04d}",
                process_code=code,
                organisation=organisation,
                connection=connection,
                client_id=client_id(number),
                download_folder=str(Path(folders) / client_id(number)),
                automatic_status=PUSHED_STATUS,
                automatic_final_status="",
                enabled=True,
            )
            demarche.client_secret = client_secret(number)
            demarche.save()
    emit({"demarches": Demarche.objects.filter(enabled=True).count()})


def sandbox_setup(demarches: int, latency_ms: int) -> None:
    """One subscription per démarche (its own credentials), then the latency per call."""
    from hubee_portal.sandbox import services as sandbox
    from tools.bench.install import emit

    for number in range(demarches):
        sandbox.create_subscription(
            PROCESS_CODES[number % PER_ORGANISATION], client_id(number), client_secret(number)
        )
    sandbox.set_faults(latency_ms=latency_ms)
    sandbox.clear_call_log()
    emit({"subscriptions": demarches})


def sandbox_deposits(demarches: int, per_minute: float, seed: int, log: str, stop: str) -> None:
    """Until the file `stop` exists: a télédossier with 1-2 small files into a random
    démarche every 60/per_minute seconds; one JSON line per deposit in `log`, written once
    it is committed (what HubEE would show from then on)."""
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Subscription

    rng = random.Random(seed)  # noqa: S311 - test data
    subscriptions = {s.client_id: s for s in Subscription.objects.all()}
    interval = 60.0 / per_minute
    stop_file = Path(stop)
    next_at = time.time()
    number = 0
    with open(log, "a") as out:
        while not stop_file.exists():
            if time.time() < next_at:
                time.sleep(min(0.2, next_at - time.time()))
                continue
            next_at += interval
            number += 1
            cid = client_id(rng.randrange(demarches))
            files = [
                (
                    f"piece-{index}.pdf",
                    "Piece-PDF",
                    "application/pdf",
                    b"%PDF-1.4\n" + rng.randbytes(rng.randint(1_000, 8_000)),
                )
                for index in range(1, rng.randint(1, 2) + 1)
            ]
            case = sandbox.deposit_case(
                subscriptions[cid],
                applicant={"firstName": "Camille", "lastName": f"Flotte{number}"},
                files=files,
            )
            out.write(json.dumps({"case": str(case.id), "client": cid, "at": time.time()}) + "\n")
            out.flush()


def portal_dossiers() -> None:
    """Each stored dossier with its files: case id → [attachment id, state, sha256 of the
    bytes on disk (None when absent)], and the pushes the portal still has to send."""
    from dossiers.models import Dossier, OutgoingEvent, PieceJointe
    from tools.bench.install import emit

    dossiers: dict[str, list] = {str(case): [] for case in Dossier.objects.values_list(
        "hubee_case_id", flat=True
    )}  # fmt: skip
    for piece in PieceJointe.objects.select_related("dossier__demarche"):
        path = piece.absolute_path
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        dossiers[str(piece.dossier.hubee_case_id)].append(
            [str(piece.hubee_attachment_id), piece.state, digest]
        )
    emit(
        {
            "dossiers": dossiers,
            "unsent": OutgoingEvent.objects.exclude(state="sent").count(),
        }
    )


def sandbox_correctness(portal_json: str) -> None:
    """Counted on the sandbox's side: every case one dossier with identical files, the
    pushed status once. `portal_json`: the file portal_dossiers' line was written to."""
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.enums import ActionType, Party
    from hubee_portal.sandbox.models import Attachment, Case, Event, Subscription
    from tools.bench.install import emit

    portal = json.loads(Path(portal_json).read_text())
    dossiers = portal["dossiers"]
    cases = {str(c) for c in Case.objects.values_list("id", flat=True)}
    expected = defaultdict(dict)
    for case_id, attachment_id, sha256 in Attachment.objects.filter(case__isnull=False).values_list(
        "case_id", "id", "sha256"
    ):
        expected[str(case_id)][str(attachment_id)] = sha256
    missing = sorted(cases - set(dossiers))
    extra = sorted(set(dossiers) - cases)
    altered, doubled_files = [], []
    for case_id in cases & set(dossiers):
        stored = dossiers[case_id]
        counts = Counter(row[0] for row in stored)
        doubled_files += [a for a, n in counts.items() if n > 1]
        got = {row[0]: row[2] if row[1] == "stored" else None for row in stored}
        if got != expected[case_id]:
            altered.append(case_id)
    pushes = Counter(
        (str(case), status)
        for case, status in Event.objects.filter(
            transmitter_type=Party.SI, action_type=ActionType.STATUS_UPDATE
        ).values_list("case_id", "case_new_status")
    )
    unpushed = sorted(c for c in cases if pushes[(c, PUSHED_STATUS)] == 0)
    pushed_twice = sorted({case for (case, _), n in pushes.items() if n > 1})
    emit(
        {
            "cases": len(cases),
            "dossiers": len(dossiers),
            "missing": missing,
            "extra": extra,
            "altered": sorted(altered),
            "doubled_files": sorted(doubled_files),
            "unpushed": unpushed,
            "pushed_twice": pushed_twice,
            "unsent": portal["unsent"],
            "pending_notifications": sum(
                sandbox.pending_si_notifications(s) for s in Subscription.objects.all()
            ),
        }
    )


def sandbox_calls(start: float, end: float) -> None:
    """The call log between two instants: per client, per route, per minute; durations."""
    from datetime import UTC, datetime

    from hubee_portal.sandbox.models import CallLog
    from tools.bench.install import emit

    rows = CallLog.objects.filter(
        time__gte=datetime.fromtimestamp(start, UTC), time__lt=datetime.fromtimestamp(end, UTC)
    ).values_list("method", "path", "client_id", "time", "duration_ms", "status_code")
    by_route: Counter = Counter()
    lists: list[list[Any]] = []
    durations = []
    tokens = errors = 0
    for method, path, cid, at, duration_ms, status in rows:
        by_route[f"{method} {path}"] += 1
        durations.append(duration_ms)
        errors += status >= 500
        if method == "POST" and path == TOKEN_PATH:
            tokens += 1
        elif method == "GET" and path == LIST_PATH:
            lists.append([cid, at.timestamp()])
    emit(
        {
            "calls": len(durations),
            "by_route": dict(by_route),
            "durations": sorted(durations),
            "tokens": tokens,
            "lists": lists,
            "server_errors": errors,
        }
    )
