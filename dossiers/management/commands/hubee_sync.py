"""One synchronisation pass in the foreground."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from demarches.models import Demarche
from dossiers.sync import SyncOutcome, sync_all


class Command(BaseCommand):
    help = (
        "Synchronise les démarches actives avec HubEE (une passe). Code de sortie : 0 rien en "
        "attente, 1 des notifications en échec restent à traiter, 2 une démarche n'a pas pu se "
        "connecter."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demarche",
            action="append",
            default=[],
            help="Identifiant ou code de démarche (répétable) ; par défaut toutes les actives.",
        )
        parser.add_argument("--concurrency", type=int, default=None)

    def handle(self, *args, demarche, concurrency, **options):
        queryset = Demarche.objects.select_related("connection")
        if demarche:
            condition = Q()
            for value in demarche:
                condition |= Q(process_code=value)
                if value.isdigit():
                    condition |= Q(pk=int(value))
            queryset = queryset.filter(condition)
            if not queryset.exists():
                raise CommandError(f"Aucune démarche ne correspond à {', '.join(demarche)}.")
        else:
            queryset = queryset.filter(enabled=True)
            if not queryset.exists():
                self.stdout.write("Aucune démarche active : rien à synchroniser.")
                return

        started = time.monotonic()
        outcomes = sync_all(queryset, on_result=self.print_outcome, concurrency=concurrency)
        elapsed = time.monotonic() - started
        created = sum(o.run.dossiers_created for o in outcomes if o.run)
        files = sum(o.run.files_downloaded for o in outcomes if o.run)
        pending = sum(o.pending_failures for o in outcomes)
        unreachable = [o for o in outcomes if o.connection_error]
        stopped = [o for o in outcomes if o.error and not o.connection_error]
        rate = created / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            f"Terminé en {elapsed:.1f} s : {len(outcomes)} démarche(s), {created} dossier(s) "
            f"créé(s) ({rate:.1f}/s), {files} fichier(s), {pending} notification(s) en échec "
            f"en attente, {len(unreachable)} démarche(s) injoignable(s), {len(stopped)} "
            "démarche(s) interrompue(s)."
        )
        if unreachable:
            raise SystemExit(2)
        if pending or stopped:
            raise SystemExit(1)

    def print_outcome(self, outcome: SyncOutcome) -> None:
        name = f"{outcome.demarche.name} ({outcome.demarche.process_code})"
        if outcome.skipped:
            self.stdout.write(f"- {name} : déjà en cours ailleurs, ignorée.")
            return
        run = outcome.run
        if outcome.error:
            self.stdout.write(self.style.ERROR(f"- {name} : {outcome.error}"))
            return
        line = (
            f"- {name} : {run.notifications_handled} notification(s), "
            f"{run.dossiers_created} dossier(s) créé(s), {run.files_downloaded} fichier(s) "
            f"({run.bytes_downloaded} octets), {run.errors} erreur(s), "
            f"{outcome.pending_failures} en attente, {run.api_calls} appel(s) à l'API."
        )
        style = self.style.WARNING if run.errors else self.style.SUCCESS
        self.stdout.write(style(line))
