"""Run inside the child processes of the reliability tests (after django.setup()).

`setup` builds démarches and their télédossiers on the sandbox; `report` prints, as JSON, every
guarantee the tests check — computed from the portal's records, the files on disk and the
sandbox's own records and call log — as lists of problems, so a failure names the case.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path

CALL_PREFIX = "/teledossiers/v1"


def setup(
    base_url: str,
    process_codes: list[str],
    cases: int,
    *,
    files: tuple[int, int] = (1, 3),
    size: tuple[int, int] = (2_000, 30_000),
    automatic_status: str = "SI_RECEIVED",
    automatic_final_status: str = "",
    latency_ms: int = 0,
    seed: int = 1,
) -> None:
    """`cases` télédossiers per démarche, each with a seeded random number of random files."""
    from demarches.models import Demarche, HubEEConnection, Organisation
    from hubee_portal.sandbox import services as sandbox

    rng = random.Random(seed)  # noqa: S311  (test data)
    organisation = Organisation.objects.create(name="Commune test", siret="21060088800015")
    connection = HubEEConnection.objects.create(
        name="Bac à sable",
        environment="autre",
        token_url=f"{base_url}/sandbox/oauth2/token",
        api_url=f"{base_url}/sandbox",
    )
    data_dir = Path(os.environ["DATA_DIR"])
    for code in process_codes:
        subscription = sandbox.create_subscription(code, f"id-{code}", f"secret-{code}")
        demarche = Demarche(
            name=code,
            process_code=code,
            organisation=organisation,
            connection=connection,
            client_id=f"id-{code}",
            download_folder=str(data_dir / "telechargements" / code),
            automatic_status=automatic_status,
            automatic_final_status=automatic_final_status,
            enabled=True,
        )
        demarche.client_secret = f"secret-{code}"
        demarche.full_clean()
        demarche.save()
        for number in range(cases):
            count = rng.randint(*files)
            specs = [
                (
                    # Same name twice in one case now and then: the second gets a suffix.
                    f"piece-{rng.randint(1, count)}.pdf",
                    "Piece-PDF",
                    "application/pdf",
                    b"%PDF-1.4\n" + rng.randbytes(rng.randint(*size)),
                )
                for _ in range(count)
            ]
            sandbox.deposit_case(
                subscription,
                applicant={"firstName": "Camille", "lastName": f"Test{number}"},
                files=specs,
            )
    if latency_ms:
        sandbox.set_faults(latency_ms=latency_ms)


def report(expected_pushes: list[str]) -> None:
    """Print the guarantees as JSON lists of problems (empty lists: all kept)."""
    from django.db.models import Count

    from dossiers.models import (
        Dossier,
        NotificationFailure,
        OutgoingEvent,
        PieceJointe,
        SyncRun,
    )
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Attachment, CallLog, Case, Subscription

    # A purged case is gone from HubEE: what is checked is that it was given up (below).
    cases = list(Case.objects.filter(purged=False))
    purged = [
        str(case_id) for case_id in Case.objects.filter(purged=True).values_list("id", flat=True)
    ]
    given_up = sorted(
        str(case_id)
        for case_id in NotificationFailure.objects.filter(
            given_up=True, kind="not_found"
        ).values_list("case_id", flat=True)
    )
    dossiers = {str(d.hubee_case_id): d for d in Dossier.objects.select_related("demarche")}

    # Every case stored exactly once (the unique constraint says at most once; count the rest).
    missing_dossiers = [str(c.id) for c in cases if str(c.id) not in dossiers]
    folders = Counter((d.demarche_id, d.folder_name) for d in dossiers.values())
    shared_folders = [f"{key}" for key, n in folders.items() if n > 1]

    # Every file complete and verified against the sandbox's own attachment.
    file_problems = []
    expected_paths = set()
    for attachment in Attachment.objects.filter(case__isnull=False, case__purged=False):
        piece = PieceJointe.objects.filter(hubee_attachment_id=attachment.id).first()
        if piece is None:
            file_problems.append(f"absent: {attachment.id}")
            continue
        path = piece.absolute_path
        expected_paths.add(path)
        if piece.state != "stored":
            file_problems.append(f"{piece.state}: {piece.stored_path}")
        elif not path.is_file():
            file_problems.append(f"no file: {piece.stored_path}")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if not digest == piece.sha256 == attachment.sha256:
                file_problems.append(f"different: {piece.stored_path}")
            if path.stat().st_size != attachment.size:
                file_problems.append(f"size: {piece.stored_path}")
    duplicated_pieces = list(
        PieceJointe.objects.values("hubee_attachment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("hubee_attachment_id", flat=True)
    )

    # Nothing else on disk: no second copy of a file, no temporary file.
    roots = {Path(d.demarche.download_folder) for d in dossiers.values()}
    on_disk = {p for root in roots for p in root.rglob("*") if p.is_file()}
    temp_files = sorted(str(p) for p in on_disk if p.name.startswith(".hubee-part-"))
    extra_files = sorted(
        str(p) for p in on_disk - expected_paths if not p.name.startswith(".hubee-part-")
    )

    # HubEE's side: notifications, status pushes, and the call log.
    pending = sum(sandbox.pending_si_notifications(s) for s in Subscription.objects.all())
    wrong_pushes = {
        str(case.id): pushes
        for case in cases
        if (pushes := sandbox.status_pushes(case)) != expected_pushes
    }
    calls = CallLog.objects.filter(path__startswith=CALL_PREFIX)
    case_reads = Counter(
        calls.filter(method="GET", path=f"{CALL_PREFIX}/cases/{{caseId}}").values_list(
            "resource", flat=True
        )
    )
    deletes = Counter(
        calls.filter(
            method="DELETE", path=f"{CALL_PREFIX}/notifications/{{notificationId}}"
        ).values_list("status_code", flat=True)
    )
    posts = Counter(
        calls.filter(method="POST", path=f"{CALL_PREFIX}/cases/{{caseId}}/events").values_list(
            "status_code", flat=True
        )
    )

    # Runs that did work at the same time (each process syncs its démarches one after another).
    runs = SyncRun.objects.filter(finished_at__isnull=False, notifications_handled__gt=0)
    moments = sorted(
        [(run.started_at, 1) for run in runs] + [(run.finished_at, -1) for run in runs],
        key=lambda moment: (moment[0], moment[1]),
    )
    running = max_running = 0
    for _, step in moments:
        running += step
        max_running = max(max_running, running)

    sys.stdout.write(
        json.dumps(
            {
                "cases": len(cases),
                "dossiers": len(dossiers),
                "missing_dossiers": missing_dossiers,
                "shared_folders": shared_folders,
                "file_problems": file_problems,
                "duplicated_pieces": [str(i) for i in duplicated_pieces],
                "files_checked": len(expected_paths),
                "temp_files": temp_files,
                "extra_files": extra_files,
                "pending_notifications": pending,
                "wrong_pushes": wrong_pushes,
                "unsent_outgoing": OutgoingEvent.objects.exclude(state="sent").count(),
                "open_failures": NotificationFailure.objects.filter(
                    resolved_at__isnull=True, given_up=False
                ).count(),
                "purged": sorted(purged),
                "given_up": given_up,
                "max_reads_per_case": max(case_reads.values(), default=0),
                "deletes_by_status": {str(k): v for k, v in deletes.items()},
                "posts_by_status": {str(k): v for k, v in posts.items()},
                "max_runs_at_once": max_running,
                "failures": list(
                    NotificationFailure.objects.values_list("kind", "error", "attempts")[:20]
                ),
            }
        )
        + "\n"
    )


def guarantees_problems(state: dict, cases: int) -> dict:
    """The subset of a report that must be empty or zero once everything is synced."""
    problems = {
        key: state[key]
        for key in (
            "missing_dossiers",
            "shared_folders",
            "file_problems",
            "duplicated_pieces",
            "temp_files",
            "extra_files",
            "wrong_pushes",
            "pending_notifications",
            "unsent_outgoing",
            "open_failures",
        )
        if state[key]
    }
    if state["cases"] != cases or state["dossiers"] != cases:
        problems["counts"] = (state["cases"], state["dossiers"])
    return problems


def journal() -> None:
    """Print the sync journal as JSON: runs (oldest first) and notification failures."""
    from dossiers.models import NotificationFailure, SyncRun

    runs = SyncRun.objects.order_by("started_at", "pk")
    failures = NotificationFailure.objects.order_by("first_failed_at", "pk")
    sys.stdout.write(
        json.dumps(
            {
                "runs": [
                    {"status": r.status, "message": r.message, "errors": r.errors} for r in runs
                ],
                "failures": [
                    {
                        "kind": f.kind,
                        "error": f.error,
                        "attempts": f.attempts,
                        "given_up": f.given_up,
                        "resolved": f.resolved_at is not None,
                    }
                    for f in failures
                ],
            }
        )
        + "\n"
    )


def sync_with_broken_disk(where: str, error: str, runs: int) -> None:
    """`hubee_sync` `runs` times in this process while the file writer fails with `error`
    (an errno name) at `where`: "open" (dossiers.records.storage.open_temp), "write" (half-way
    through the first write of every file) or "folder" (dossiers.records.storage.ensure_dir).
    Prints the exit codes as JSON."""
    import errno

    from django.core.management import call_command

    from dossiers.records import storage

    number = getattr(errno, error)

    def fail(filename: object = None) -> OSError:
        return OSError(number, os.strerror(number), None if filename is None else str(filename))

    class HalfWrittenFile:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            raise fail()

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

    real_open_temp = storage.open_temp

    def open_temp(folder):
        if where == "open":
            raise fail(folder)
        temp, handle = real_open_temp(folder)
        return temp, HalfWrittenFile(handle)

    def ensure_dir(path):
        raise fail(path)

    if where == "folder":
        storage.ensure_dir = ensure_dir
    else:
        storage.open_temp = open_temp
    codes = []
    for _ in range(runs):
        try:
            call_command("hubee_sync", "--concurrency", "4")
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code)
    sys.stdout.write(json.dumps({"exit_codes": codes}) + "\n")


def fire_schedule() -> None:
    """What a cluster's scheduler does when the sync schedule is due, called directly: the
    schedule is made due, then django-q2's scheduler puts its task on the broker. A second
    fan-out is queued at once, as when two schedulers overlap: the lease must absorb it."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    from dossiers.operations.schedules import SCHEDULE_NAME
    from dossiers.tasks import enqueue_sync

    Schedule.objects.filter(name=SCHEDULE_NAME).update(
        next_run=timezone.now() - timedelta(seconds=1)
    )
    broker = get_broker()
    scheduler(broker=broker)
    fanned_out = enqueue_sync()
    sys.stdout.write(json.dumps({"demarches": fanned_out}) + "\n")


def cluster_state() -> None:
    """Print, as JSON, how far the clusters are: notifications left, sync tasks done."""
    from django_q.models import Task

    from dossiers.models import SyncRun
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Subscription

    syncs = Task.objects.filter(func="dossiers.tasks.sync_demarche_task")
    sys.stdout.write(
        json.dumps(
            {
                "pending_notifications": sum(
                    sandbox.pending_si_notifications(s) for s in Subscription.objects.all()
                ),
                "fan_outs_done": Task.objects.filter(func="dossiers.tasks.enqueue_sync").count(),
                "syncs_done": syncs.count(),
                "syncs_failed": list(
                    syncs.filter(success=False).values_list("result", flat=True)[:5]
                ),
                "runs_unfinished": SyncRun.objects.filter(finished_at__isnull=True).count(),
                "syncs_skipped": sum(
                    1
                    for result in syncs.values_list("result", flat=True)
                    if isinstance(result, dict) and result.get("skipped")
                ),
            },
            default=str,
        )
        + "\n"
    )


def purge(count: int) -> None:
    """Purge the first `count` cases (by external id) on the sandbox; print their ids."""
    from hubee_portal.sandbox import services as sandbox
    from hubee_portal.sandbox.models import Case

    purged = list(Case.objects.order_by("external_id")[:count])
    for case in purged:
        sandbox.purge_case(case)
    sys.stdout.write(json.dumps({"purged": sorted(str(case.id) for case in purged)}) + "\n")


def all_faults_on(seed: int) -> None:
    """Every fault switch of the sandbox on (each hits the first attempt at a resource)."""
    from hubee_portal.sandbox import services as sandbox

    sandbox.set_faults(
        seed=seed,
        latency_ms=5,
        connection_latency_ms=20,
        error_rate=0.3,
        token_lifetime=3,
        truncate_downloads=True,
        wrong_digest=True,
        drop_response_after_post=True,
        faults_per_resource=1,
    )


# Run in the sandbox server's process (Install server_patch): records the requests whose body
# arrived shorter than announced — a client killed in the middle of sending it. HubEE refuses
# them (400); a refused POST that is *not* in this file would be a second status push.
RECORD_TRUNCATED_REQUESTS = """
import os
from pathlib import Path
from hubee_portal.sandbox import views

truncated = Path(os.environ["DATA_DIR"]) / "truncated-requests"
json_body = views.ApiCall.json_body

def recording_json_body(self):
    declared = int(self.request.META.get("CONTENT_LENGTH") or 0)
    if len(self.request.body) < declared:
        with truncated.open("a") as log:
            log.write(f"{self.method} {self.api_path}\\n")
    return json_body(self)

views.ApiCall.json_body = recording_json_body
"""
