"""Benchmarks of the sync against the sandbox, in a throw-away install (see tools/bench/)."""

from django.core.management.base import BaseCommand, CommandError

from tools.bench import (
    fleet,
    fleet_report,
    ingest,
    ingest_antivirus,
    memory,
    pages,
    staff_pages,
    xml_memory,
)
from tools.bench.install import BenchmarkError


class Command(BaseCommand):
    help = (
        "Mesure la synchronisation dans une installation jetable, contre le bac à sable servi "
        "par un autre processus : « ingest » (débit, appels et connexions par dossier, borne de "
        "latence, motif du script officiel), « memory » (pic de mémoire sur une grosse pièce "
        "jointe), « pages », « staff » (pages d'administration à 2 500 démarches), « xml » "
        "(pic de mémoire de la lecture d'un XML hostile pour la page d'un dossier) ou « fleet » "
        "(une flotte de démarches sondées chaque minute par de vrais qcluster, sur "
        "PostgreSQL). Affiche les chiffres face aux cibles, sans rien affirmer."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="benchmark", required=True)
        ingest = sub.add_parser("ingest", help="Débit d'ingestion.")
        ingest.add_argument("--cases", type=int, default=500, help="Nombre de dossiers (N).")
        ingest.add_argument(
            "--attachments", type=int, default=3, help="Pièces jointes par dossier (a)."
        )
        ingest.add_argument(
            "--size", type=int, default=200_000, help="Taille de chaque pièce (octets)."
        )
        ingest.add_argument("--latency-ms", type=int, default=50, help="Latence par appel (r, ms).")
        ingest.add_argument(
            "--connection-ms", type=int, default=100, help="Latence par nouvelle connexion (ms)."
        )
        ingest.add_argument(
            "--concurrency", type=int, default=4, help="Concurrence de hubee_sync (k)."
        )
        ingest.add_argument(
            "--antivirus",
            action="store_true",
            help="Avant et après l'antivirus : la synchronisation avec ANTIVIRUS=off puis "
            "ANTIVIRUS=clamd (un clamd démarré pour le banc), puis l'analyse des fichiers ; "
            "sans le motif du script officiel.",
        )
        memory = sub.add_parser("memory", help="Pic de mémoire sur une grosse pièce jointe.")
        memory.add_argument("--size-mb", type=int, default=300, help="Taille de la pièce (Mo).")
        pages = sub.add_parser("pages", help="Requêtes et temps serveur des pages à volume.")
        pages.add_argument("--dossiers", type=int, default=100_000)
        pages.add_argument("--files-per-dossier", type=int, default=3)
        pages.add_argument("--events-per-dossier", type=int, default=2)
        pages.add_argument("--repeats", type=int, default=30, help="Rendus par page.")
        pages.add_argument(
            "--no-analyze",
            dest="analyze",
            action="store_false",
            help=(
                "PostgreSQL : ne pas lancer VACUUM ANALYZE après l'insertion (base sans "
                "statistiques, comme sur un serveur où l'autovacuum est coupé)."
            ),
        )
        staff = sub.add_parser(
            "staff",
            help="Requêtes et temps serveur de « État du portail », /healthz, des alertes, de la "
            "liste des démarches de l'administration et du tableau de bord, à N démarches.",
        )
        staff.add_argument("--demarches", type=int, default=2500, help="Nombre de démarches.")
        staff.add_argument(
            "--runs-per-demarche", type=int, default=20, help="Synchronisations journalisées."
        )
        staff.add_argument("--dossiers-per-demarche", type=int, default=4)
        staff.add_argument(
            "--agent-demarches", type=int, default=50, help="Démarches de l'agent (accueil)."
        )
        staff.add_argument("--repeats", type=int, default=10, help="Rendus par page.")
        xml = sub.add_parser("xml", help="Pic de mémoire de la lecture d'un XML très imbriqué.")
        xml.add_argument("--size-mb", type=int, default=5, help="Taille du fichier XML (Mo).")
        add_fleet_arguments(sub)
        for subparser in (ingest, memory, pages, staff):
            subparser.add_argument(
                "--database-url",
                default=None,
                help=(
                    "Serveur PostgreSQL (postgres://…) où créer puis supprimer une base dédiée ; "
                    "par défaut un fichier SQLite."
                ),
            )

    def handle(self, *args, benchmark, database_url=None, **options):
        try:
            if benchmark == "ingest":
                settings = ingest.IngestSettings(
                    cases=options["cases"],
                    attachments=options["attachments"],
                    size=options["size"],
                    latency_ms=options["latency_ms"],
                    connection_ms=options["connection_ms"],
                    concurrency=options["concurrency"],
                    database_url=database_url,
                )
                if options["antivirus"]:
                    figures = ingest_antivirus.run_ingest_antivirus(settings, self.progress)
                    lines = ingest_antivirus.format_ingest_antivirus(figures)
                else:
                    lines = ingest.format_ingest(ingest.run_ingest(settings, self.progress))
            elif benchmark == "fleet":
                lines = fleet_report.format_fleet(
                    fleet.run_fleet(fleet_settings(options, database_url), self.progress)
                )
            elif benchmark == "pages":
                report = pages.run_pages(
                    dossiers=options["dossiers"],
                    files_per=options["files_per_dossier"],
                    events_per=options["events_per_dossier"],
                    repeats=options["repeats"],
                    database_url=database_url,
                    analyze=options["analyze"],
                )
                lines = pages.format_pages(report)
            elif benchmark == "staff":
                report = staff_pages.run_staff_pages(
                    demarches=options["demarches"],
                    runs_per=options["runs_per_demarche"],
                    dossiers_per=options["dossiers_per_demarche"],
                    agent_demarches=options["agent_demarches"],
                    repeats=options["repeats"],
                    database_url=database_url,
                )
                lines = staff_pages.format_staff_pages(report)
            elif benchmark == "xml":
                figures = xml_memory.run_xml_memory(options["size_mb"], self.progress)
                lines = xml_memory.format_xml_memory(figures)
            else:
                big = memory.run_memory(options["size_mb"], database_url, self.progress)
                lines = memory.format_memory(big)
        except (ValueError, BenchmarkError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        for line in lines:
            self.stdout.write(line)

    def progress(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()


def add_fleet_arguments(sub) -> None:
    fleet_parser = sub.add_parser(
        "fleet",
        help="Flotte de démarches : appels à HubEE, CPU, file de tâches, fraîcheur, exactitude.",
        description=(
            "Une installation jetable sur deux bases PostgreSQL dédiées (portail, bac à sable), "
            "N démarches réparties en N/4 organisations, la vraie planification et de vrais "
            "processus qcluster, un processus qui dépose des télédossiers au hasard. Mesure "
            "sur la fenêtre stable, après la chauffe ; « essai court » sous 10 min de mesure ou "
            "2 min de chauffe."
        ),
    )
    arg = fleet_parser.add_argument
    arg("--demarches", type=int, required=True, help="Nombre de démarches (N).")
    arg("--minutes", type=float, required=True, help="Durée de la fenêtre mesurée (min).")
    arg("--warmup", type=float, default=2, help="Chauffe avant la mesure (min, 2 par défaut).")
    arg("--clusters", type=int, default=1, help="Processus qcluster (machines), 1 par défaut.")
    arg("--broker", choices=["redis", "orm"], default="redis", help="Broker de django-q.")
    arg("--workers", type=int, default=2, help="Workers par cluster (Q_WORKERS), 2 par défaut.")
    arg(
        "--deposits-per-minute",
        type=float,
        default=None,
        help="Dépôts de télédossiers par minute (par défaut N/50, au moins 1).",
    )
    arg("--latency-ms", type=int, default=20, help="Latence du bac à sable par appel (ms).")
    arg(
        "--idle-after",
        type=int,
        default=0,
        help="HUBEE_IDLE_AFTER_MINUTES : sondage espacé après ce nombre de minutes sans "
        "notification (0 par défaut : coupé).",
    )
    arg(
        "--conn-max-age",
        type=int,
        default=None,
        help="CONN_MAX_AGE des qcluster (par défaut : celui de l'environnement).",
    )
    arg(
        "--drain-seconds",
        type=int,
        default=180,
        help="Après les dépôts, attente maximale que tout soit reçu et poussé (s, 180 ; "
        "5 min de plus avec --idle-after).",
    )
    arg(
        "--kill-cluster-at",
        type=float,
        default=None,
        help="Tuer le cluster 1 (SIGKILL à tout son groupe) à cette seconde du banc.",
    )
    arg(
        "--database-url",
        default=fleet.DEFAULT_DATABASE_URL,
        help="Serveur PostgreSQL où créer puis supprimer les deux bases du banc "
        f"(par défaut {fleet.DEFAULT_DATABASE_URL}).",
    )
    arg("--redis-url", default=fleet.DEFAULT_REDIS_URL, help="Serveur Redis (broker redis).")


def fleet_settings(options: dict, database_url: str) -> fleet.FleetSettings:
    return fleet.FleetSettings(
        demarches=options["demarches"],
        minutes=options["minutes"],
        warmup=options["warmup"],
        clusters=options["clusters"],
        broker=options["broker"],
        workers=options["workers"],
        deposits_per_minute=options["deposits_per_minute"],
        latency_ms=options["latency_ms"],
        idle_after=options["idle_after"],
        conn_max_age=options["conn_max_age"],
        kill_cluster_at=options["kill_cluster_at"],
        drain_seconds=options["drain_seconds"],
        database_url=database_url,
        redis_url=options["redis_url"],
    )
