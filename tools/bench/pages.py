"""Pages benchmark: query count and server time of the list and detail pages at volume.

Runs in a throw-away install (tools.bench.harness): a child process seeds the database
with bulk inserts, then renders the pages through Django's test client, many times.
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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tools.bench import harness


@dataclass
class PageFigures:
    page: str
    queries: int
    median_ms: float
    p90_ms: float


@dataclass
class PagesReport:
    database: str
    dossiers: int
    files: int
    events: int
    seed_seconds: float
    pages: list[PageFigures]
    analyzed: bool = False


def seed(
    dossiers: int, files_per: int, events_per: int, demarches: int = 5, analyze: bool = True
) -> float:
    """Bulk-insert the volume (child process). Returns the seconds the inserts took."""
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.utils import timezone

    from demarches.models import Demarche, HubEEConnection, Organisation
    from dossiers.models import Dossier, Evenement, PieceJointe

    started = time.perf_counter()
    organisation = Organisation.objects.create(name="Commune", siret="21060088800015")
    connection = HubEEConnection.objects.create(
        name="Bench",
        environment="autre",
        token_url="http://x/t",  # noqa: S106
        api_url="http://x",
    )
    statuses = ["HUBEE_NOTIFIED", "SI_RECEIVED", "IN_PROGRESS", "ADD_AWAITING", "DONE"]
    # Inside the throw-away install's data folder, removed with it.
    folder = os.path.join(os.environ["DATA_DIR"], "telechargements")
    rows = []
    for index in range(demarches):
        demarche = Demarche(
            name=f"Démarche {index}",
            process_code=f"code{index}",
            organisation=organisation,
            connection=connection,
            client_id=f"client-{index}",
            download_folder=folder,
            enabled=True,
        )
        demarche.client_secret = "x"  # noqa: S105
        rows.append(demarche)
    Demarche.objects.bulk_create(rows)
    demarche_ids = list(Demarche.objects.values_list("pk", flat=True))
    get_user_model().objects.create_superuser("bench", password=secrets.token_urlsafe(16))
    # An agent given two of the démarches: their list goes through the habilitations.
    agent = get_user_model().objects.create_user("agent", password=secrets.token_urlsafe(16))
    for demarche_id in demarche_ids[:2]:
        Demarche.objects.get(pk=demarche_id).agents.add(agent)

    now = timezone.now()
    batch = 5000
    for start in range(0, dossiers, batch):
        chunk = []
        for number in range(start, min(start + batch, dossiers)):
            chunk.append(
                Dossier(
                    demarche_id=demarche_ids[number % len(demarche_ids)],
                    hubee_case_id=uuid.uuid4(),
                    external_id=f"DILA-AEC-{number:013d}-01",
                    process_code="code",
                    # Every status in every démarche (not one status per démarche).
                    status=statuses[(number // len(demarche_ids)) % len(statuses)],
                    applicant_first_name=f"Prénom{number}",
                    applicant_last_name=f"Nom{number % 997}",
                    applicant_email=f"p{number}@example.fr",
                    folder_name=f"DILA-AEC-{number:013d}-01",
                    received_at=now - timezone.timedelta(minutes=number),
                    raw={"externalId": f"DILA-AEC-{number:013d}-01"},
                )
            )
        created = Dossier.objects.bulk_create(chunk)
        pieces, events = [], []
        for position, dossier in enumerate(created):
            for file_number in range(files_per):
                pieces.append(
                    PieceJointe(
                        dossier=dossier,
                        hubee_attachment_id=uuid.uuid4(),
                        file_name=f"piece-{file_number}.pdf",
                        stored_path=f"{dossier.folder_name}/piece-{file_number}.pdf",
                        attachment_type="document",
                        mime_type="application/pdf",
                        size=200_000,
                        sha256="0" * 64,
                        hubee_status="RECEIVED",
                        state="stored",
                        scan="clean",
                        downloaded_at=now,
                    )
                )
            for event_number in range(events_per):
                events.append(
                    Evenement(
                        hubee_event_id=uuid.uuid4(),
                        dossier=dossier,
                        # One dossier in twenty has a message from the citizen.
                        action_type="SENDING_MESSAGE"
                        if position % 20 == 0 and not event_number % 2
                        else "STATUS_UPDATE",
                        direction="sent" if event_number % 2 else "received",
                        author="Agent",
                        case_new_status="SI_RECEIVED",
                        hubee_status="SENT",
                        hubee_created_at=now,
                    )
                )
        PieceJointe.objects.bulk_create(pieces, batch_size=batch)
        Evenement.objects.bulk_create(events, batch_size=batch)
    # Team work: one dossier in ten of the agent's démarches is theirs, one in ten a colleague's.
    from django.db.models import F

    colleague = get_user_model().objects.create_user("collegue", password=secrets.token_urlsafe(16))
    for demarche_id in demarche_ids[:2]:
        Demarche.objects.get(pk=demarche_id).agents.add(colleague)
    theirs = Dossier.objects.filter(demarche_id__in=demarche_ids[:2]).annotate(m=F("pk") % 10)
    theirs.filter(m=0).update(assigned_to=agent, assigned_at=now)
    theirs.filter(m=5).update(assigned_to=colleague, assigned_at=now)
    _seed_milestones()
    # What the worker's minute (dossiers.tasks.heartbeat) does: the running counts of the list
    # folded into one row per cell, instead of the 100,000 +1 rows the inserts left.
    from dossiers.records import tallies

    tallies.compact()
    seconds = time.perf_counter() - started
    if analyze and db.vendor == "postgresql":
        # What autovacuum does after such inserts: planner statistics, visibility map. Without
        # them (a server with autovacuum off) the planner guesses 48 rows and sorts 100 000.
        with db.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return seconds


def _seed_milestones() -> None:
    """What note_milestones keeps, in bulk (one UPDATE per group of dossiers): 70 % acted on,
    70 % decided, one decision in four a refusal, with delays spread over hours and days."""
    from datetime import timedelta

    from django.db.models import F

    from dossiers.models import Dossier

    groups = Dossier.objects.annotate(m=F("pk") % 20)
    for m in range(14):
        delay = (m + 1) * 3 * 3600
        groups.filter(m=m).update(
            first_action_at=F("received_at") + timedelta(seconds=delay), first_action_delay=delay
        )
    for m in range(5, 19):
        delay = (m + 1) * 8 * 3600
        groups.filter(m=m).update(
            decided_at=F("received_at") + timedelta(seconds=delay),
            decision_delay=delay,
            decision="REFUSED" if m % 4 == 0 else "DONE",
        )


def _log_in_with_totp(client, user) -> None:
    """A superuser's session, second factor included (a code computed as an app would)."""
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="Banc d'essai", confirmed=True)
    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("second-factor-verify"), {"code": code})
    if response.status_code != 302:
        raise RuntimeError(f"second factor refused: HTTP {response.status_code}")


def measure(repeats: int) -> list[PageFigures]:
    """Render each page `repeats` times through the test client (child process)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from demarches.models import Demarche
    from dossiers.models import Dossier

    admin, agent = Client(), Client()
    _log_in_with_totp(admin, get_user_model().objects.get(username="bench"))
    agent.force_login(get_user_model().objects.get(username="agent"))
    demarche = Demarche.objects.order_by("pk").first()
    middle = Dossier.objects.order_by("pk")[Dossier.objects.count() // 2]
    # A bulk selection of 100 (the most a request takes) of the agent's dossiers.
    selected = Dossier.objects.filter(demarche__agents__username="agent").order_by("-pk")[:100]
    selection = "&".join(f"dossier={pk}" for pk in selected.values_list("pk", flat=True))
    pages = {
        "liste": (admin, "/dossiers/"),
        "liste (agent)": (agent, "/dossiers/"),
        "liste filtrée": (
            admin,
            f"/dossiers/?demarche={demarche.pk}&status=IN_PROGRESS&q=Nom42&page=2",
        ),
        "dernière page": (admin, "/dossiers/?page=999999"),
        "détail": (admin, f"/dossiers/{middle.pk}/"),
        "accueil (agent)": (agent, "/"),
        "mes dossiers (agent)": (agent, "/dossiers/?attribue=moi"),
        "attribué : personne": (agent, "/dossiers/?attribue=personne"),
        "à traiter (agent)": (agent, "/dossiers/?file=a-traiter"),
        "nouveaux messages": (agent, "/dossiers/?message=nouveau"),
        "sélection groupée": (agent, f"/dossiers/lot/?action=traiter&{selection}"),
        # One of the agent's démarches, the default period (12 weeks).
        "statistiques": (agent, f"/dossiers/statistiques/{demarche.pk}/"),
    }
    figures = []
    for name, (client, url) in pages.items():
        client.get(url)  # warm caches, first-request imports
        timings = []
        queries = 0
        for _ in range(repeats):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code}")
            queries = len(captured.captured_queries)
        timings.sort()
        figures.append(
            PageFigures(
                page=name,
                queries=queries,
                median_ms=round(statistics.median(timings), 1),
                p90_ms=round(timings[int(len(timings) * 0.9) - 1], 1),
            )
        )
    return figures


def child(dossiers: int, files_per: int, events_per: int, repeats: int, analyze: bool) -> str:
    seconds = seed(dossiers, files_per, events_per, analyze=analyze)
    return json.dumps({"seed_seconds": seconds, "pages": [asdict(f) for f in measure(repeats)]})


@contextmanager
def _postgres_database(url: str, prefix: str = "hubee_bench"):
    """A dedicated database on the server of `url`, dropped afterwards."""
    import psycopg

    parts = urlsplit(url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_pages(
    dossiers: int = 100_000,
    files_per: int = 3,
    events_per: int = 2,
    repeats: int = 30,
    database_url: str | None = None,
    analyze: bool = True,
) -> PagesReport:
    with tempfile.TemporaryDirectory(prefix="hubee-bench-pages-") as tmp:
        workdir = Path(tmp)
        context = _postgres_database(database_url) if database_url else nullcontext(None)
        with context as url:
            # clamd as in production: the files seeded below were cleared by it.
            env = harness.production_environment(workdir, url)
            harness.migrate_and_collect(env)
            output = harness.python(
                env,
                "import sys\nfrom tools.bench import pages as b\n"
                f"sys.stdout.write(b.child({dossiers}, {files_per}, {events_per}, {repeats}, "
                f"{analyze}))",
            ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return PagesReport(
        database="PostgreSQL" if database_url else "SQLite",
        dossiers=dossiers,
        files=dossiers * files_per,
        events=dossiers * events_per,
        seed_seconds=round(data["seed_seconds"], 1),
        pages=[PageFigures(**page) for page in data["pages"]],
        analyzed=bool(database_url) and analyze,
    )


def format_pages(report: PagesReport) -> list[str]:
    lines = [
        f"Pages — {report.database} : {report.dossiers} dossiers, {report.files} fichiers, "
        f"{report.events} événements (insérés en {report.seed_seconds} s"
        + (", puis VACUUM ANALYZE)" if report.analyzed else ")"),
    ]
    for page in report.pages:
        ok = "✓" if page.queries <= 12 and page.median_ms <= 50 else "✗"
        lines.append(
            f"  {page.page:<20} {page.queries:>3} requêtes  médiane {page.median_ms:>7.1f} ms  "
            f"p90 {page.p90_ms:>7.1f} ms   cible ≤ 12 requêtes, ≤ 50 ms {ok}"
        )
    return lines
