"""Staff pages benchmark: query count and server time of the pages that walk every démarche
(« État du portail », /healthz, the incident check) and of the admin's démarche list and an
agent's dashboard, at 2,500 démarches (issue 22).

Same pattern as tools.bench.pages: a throw-away install, a child process that seeds with bulk
inserts then renders the pages through Django's test client.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from tools.bench import harness
from tools.bench.pages import PageFigures, _log_in_with_totp, _postgres_database

# Pages held to the page target; the others walk every démarche: « fast » only.
TARGETED = {"admin : démarches", "accueil (agent)"}
PROCESS_CODES = ["EtatCivil", "recensementCitoyen", "JeChangeDeCoordonnees", "DeclarationDeces"]


@dataclass
class StaffReport:
    database: str
    demarches: int
    organisations: int
    runs: int
    dossiers: int
    agent_demarches: int
    seed_seconds: float
    pages: list[PageFigures]


def seed(demarches: int, runs_per: int, dossiers_per: int, agent_demarches: int) -> float:
    """Bulk-insert the fleet (child process). Returns the seconds the inserts took."""
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.utils import timezone

    from demarches.models import Demarche, HubEEConnection, Organisation
    from dossiers.enums import RunFailure, RunStatus
    from dossiers.models import DemarchePoll, Dossier, IntegrityCheck, SyncRun
    from dossiers.operations import health
    from dossiers.records import tallies

    started = time.perf_counter()
    now = timezone.now()
    connection = HubEEConnection.objects.create(
        name="Bench",
        environment="autre",
        token_url="http://x/t",  # noqa: S106
        api_url="http://x",
    )
    # One organisation per collectivité, each with len(PROCESS_CODES) démarches.
    per_organisation = len(PROCESS_CODES)
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(name=f"Commune {index:04d}", siret=f"2100{index:010d}")
            for index in range((demarches + per_organisation - 1) // per_organisation)
        ]
    )
    # One download folder per démarche, as an operator sets them up.
    root = Path(os.environ["DATA_DIR"]) / "telechargements"
    rows = []
    for index in range(demarches):
        folder = root / f"demarche-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        demarche = Demarche(
            name=f"Démarche {index:04d}",
            process_code=PROCESS_CODES[index % per_organisation],
            organisation=organisations[index // per_organisation],
            connection=connection,
            client_id=f"client-{index}",
            download_folder=str(folder),
            enabled=True,
            created_at=now - timedelta(days=90),
        )
        demarche.client_secret = "x"  # noqa: S105
        rows.append(demarche)
    Demarche.objects.bulk_create(rows, batch_size=500)
    ids = list(Demarche.objects.order_by("pk").values_list("pk", flat=True))

    # Each démarche's last pass: a few failing (one in fifty), the rest polled this minute.
    polls = []
    for position, pk in enumerate(ids):
        failing = position % 50 == 7
        polls.append(
            DemarchePoll(
                demarche_id=pk,
                polled_at=now - timedelta(seconds=position % 60),
                succeeded_at=now - timedelta(minutes=2 if failing else 0, seconds=position % 60),
                status=RunStatus.FAILED if failing else RunStatus.OK,
                failure_kind=RunFailure.HUBEE if failing else RunFailure.NONE,
                failures_in_row=1 if failing else 0,
                active_at=now - timedelta(hours=position % 3),
            )
        )
    DemarchePoll.objects.bulk_create(polls, batch_size=1000)
    # The journal: the runs that did something or failed, over the last days.
    runs = []
    for position, pk in enumerate(ids):
        for number in range(runs_per):
            at = now - timedelta(hours=number * 3, minutes=position % 60)
            failed = number % 10 == 9
            runs.append(
                SyncRun(
                    demarche_id=pk,
                    started_at=at,
                    finished_at=at + timedelta(seconds=4),
                    status=RunStatus.FAILED if failed else RunStatus.OK,
                    failure_kind=RunFailure.HUBEE if failed else RunFailure.NONE,
                    notifications_handled=0 if failed else 2,
                    dossiers_created=0 if failed else 1,
                    message="HubEE injoignable ou en erreur : HTTP 502" if failed else "",
                )
            )
        if len(runs) >= 10_000:
            SyncRun.objects.bulk_create(runs)
            runs = []
    SyncRun.objects.bulk_create(runs)

    # A few dossiers per démarche, one in four closed long ago (due at the next purge).
    statuses = ["SI_RECEIVED", "IN_PROGRESS", "ADD_AWAITING", "DONE"]
    dossiers = []
    for position, pk in enumerate(ids):
        for number in range(dossiers_per):
            external = f"DILA-{position:05d}-{number:04d}"
            status = statuses[number % len(statuses)]
            dossiers.append(
                Dossier(
                    demarche_id=pk,
                    hubee_case_id=uuid.uuid4(),
                    external_id=external,
                    process_code=PROCESS_CODES[position % per_organisation],
                    status=status,
                    applicant_first_name="Prénom",
                    applicant_last_name=f"Nom{number}",
                    applicant_email=f"p{position}-{number}@example.fr",
                    folder_name=external,
                    received_at=now - timedelta(days=number * 200),
                    hubee_closed_at=now - timedelta(days=3 * 365) if status == "DONE" else None,
                    raw={"externalId": external},
                )
            )
    Dossier.objects.bulk_create(dossiers, batch_size=5000)
    # A weekly integrity check, the last four weeks.
    IntegrityCheck.objects.bulk_create(
        [
            IntegrityCheck(
                demarche_id=pk,
                started_at=now - timedelta(days=7 * week),
                finished_at=now - timedelta(days=7 * week),
                files_checked=dossiers_per,
            )
            for pk in ids
            for week in range(4)
        ],
        batch_size=5000,
    )
    health.beat(now)

    user_model = get_user_model()
    user_model.objects.create_superuser("bench", password=secrets.token_urlsafe(16))
    agent = user_model.objects.create_user("agent", password=secrets.token_urlsafe(16))
    Demarche.agents.through.objects.bulk_create(
        [Demarche.agents.through(demarche_id=pk, user_id=agent.pk) for pk in ids[:agent_demarches]]
    )
    tallies.compact()
    seconds = time.perf_counter() - started
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return seconds


class _Counter:
    """Counts the queries of a block: CaptureQueriesContext keeps only the last 9,000, fewer
    than a page that walks 2,500 démarches one by one makes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def _counting():
    from django.db import connection

    counter = _Counter()
    with connection.execute_wrapper(counter):
        yield counter


def _figures(name: str, timings: list[float], queries: int) -> PageFigures:
    timings.sort()
    return PageFigures(
        page=name,
        queries=queries,
        median_ms=round(statistics.median(timings), 1),
        p90_ms=round(timings[max(int(len(timings) * 0.9) - 1, 0)], 1),
    )


def measure(repeats: int) -> list[PageFigures]:
    """Render each page, and run the incident check, `repeats` times (child process)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from dossiers.operations import incidents

    admin, agent = Client(), Client()
    _log_in_with_totp(admin, get_user_model().objects.get(username="bench"))
    agent.force_login(get_user_model().objects.get(username="agent"))
    pages = {
        "état du portail": (admin, reverse("operations")),
        "/healthz": (admin, reverse("healthz")),
        # Its banner runs the /healthz checks.
        "admin : accueil": (admin, reverse("admin:index")),
        "admin : démarches": (admin, reverse("admin:demarches_demarche_changelist")),
        "accueil (agent)": (agent, reverse("home")),
    }
    figures = []
    for name, (client, url) in pages.items():
        client.get(url)  # warm caches, first-request imports
        timings, queries = [], 0
        for _ in range(repeats):
            with _counting() as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            # /healthz answers 503 when a démarche fails (the seed has some): still rendered.
            if response.status_code not in (200, 503):
                raise RuntimeError(f"{url}: HTTP {response.status_code}")
            queries = captured.count
        figures.append(_figures(name, timings, queries))
    incidents.evaluate()  # opens the seed's incidents: the timed runs find them open
    timings, queries = [], 0
    for _ in range(repeats):
        with _counting() as captured:
            started = time.perf_counter()
            incidents.evaluate()
            timings.append((time.perf_counter() - started) * 1000)
        queries = captured.count
    figures.append(_figures("incidents.evaluate()", timings, queries))
    return figures


def child(demarches: int, runs_per: int, dossiers_per: int, agent_demarches: int, repeats: int):
    seconds = seed(demarches, runs_per, dossiers_per, agent_demarches)
    return json.dumps({"seed_seconds": seconds, "pages": [asdict(f) for f in measure(repeats)]})


def run_staff_pages(
    demarches: int = 2500,
    runs_per: int = 20,
    dossiers_per: int = 4,
    agent_demarches: int = 50,
    repeats: int = 10,
    database_url: str | None = None,
) -> StaffReport:
    with tempfile.TemporaryDirectory(prefix="hubee-bench-staff-") as tmp:
        workdir = Path(tmp)
        context = nullcontext(None)
        if database_url:
            context = _postgres_database(database_url, "staff_bench")
        with context as url:
            # The incident check sends nothing.
            env = harness.production_environment(workdir, url, ADMIN_EMAILS="")
            harness.migrate_and_collect(env)
            output = harness.python(
                env,
                "import sys\nfrom tools.bench import staff_pages as b\n"
                f"sys.stdout.write(b.child({demarches}, {runs_per}, {dossiers_per}, "
                f"{agent_demarches}, {repeats}))",
            ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return StaffReport(
        database="PostgreSQL" if database_url else "SQLite",
        demarches=demarches,
        organisations=(demarches + len(PROCESS_CODES) - 1) // len(PROCESS_CODES),
        runs=demarches * runs_per,
        dossiers=demarches * dossiers_per,
        agent_demarches=min(agent_demarches, demarches),
        seed_seconds=round(data["seed_seconds"], 1),
        pages=[PageFigures(**page) for page in data["pages"]],
    )


def format_staff_pages(report: StaffReport) -> list[str]:
    lines = [
        f"Pages d'administration — {report.database} : {report.demarches} démarches de "
        f"{report.organisations} organisations, {report.runs} synchronisations journalisées, "
        f"{report.dossiers} dossiers ; agent habilité sur {report.agent_demarches} démarches "
        f"(insérés en {report.seed_seconds} s)",
    ]
    for page in report.pages:
        if page.page in TARGETED:
            ok = "✓" if page.queries <= 12 and page.median_ms <= 50 else "✗"
            target = f"cible ≤ 12 requêtes, ≤ 50 ms {ok}"
        else:
            target = "parcourt toutes les démarches : cible « rapide »"
        lines.append(
            f"  {page.page:<22} {page.queries:>4} requêtes  médiane {page.median_ms:>8.1f} ms  "
            f"p90 {page.p90_ms:>8.1f} ms   {target}"
        )
    return lines
