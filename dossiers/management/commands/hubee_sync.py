"""One synchronisation pass in the foreground."""

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

        outcomes = sync_all(queryset, on_result=self.print_outcome)
        created = sum(o.run.dossiers_created for o in outcomes if o.run)
        files = sum(o.run.files_downloaded for o in outcomes if o.run)
        pending = sum(o.pending_failures for o in outcomes)
        failed = [o for o in outcomes if o.connection_error]
        self.stdout.write(
            f"Terminé : {len(outcomes)} démarche(s), {created} dossier(s) créé(s), "
            f"{files} fichier(s), {pending} notification(s) en échec en attente, "
            f"{len(failed)} démarche(s) injoignable(s)."
        )
        if failed:
            raise SystemExit(2)
        if pending:
            raise SystemExit(1)

    def print_outcome(self, outcome: SyncOutcome) -> None:
        name = f"{outcome.demarche.name} ({outcome.demarche.process_code})"
        if outcome.skipped:
            self.stdout.write(f"- {name} : déjà en cours ailleurs, ignorée.")
            return
        run = outcome.run
        if outcome.connection_error:
            self.stdout.write(self.style.ERROR(f"- {name} : {outcome.connection_error}"))
            return
        line = (
            f"- {name} : {run.notifications_handled} notification(s), "
            f"{run.dossiers_created} dossier(s) créé(s), {run.files_downloaded} fichier(s) "
            f"({run.bytes_downloaded} octets), {run.errors} erreur(s), "
            f"{outcome.pending_failures} en attente, {run.api_calls} appel(s) à l'API."
        )
        style = self.style.WARNING if run.errors else self.style.SUCCESS
        self.stdout.write(style(line))
