"""One synchronisation pass in the foreground."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from demarches.models import Demarche
from dossiers.exchange import run
from dossiers.exchange.run import DemarcheResult


class Command(BaseCommand):
    help = (
        "Synchronise les démarches actives avec HubEE (une passe), puis envoie les actions des "
        "agents en attente et leurs alertes immédiates. Code de sortie : 0 rien en "
        "attente, 1 des notifications en échec restent à traiter, 2 une démarche n'a pas pu se "
        "connecter."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demarche",
            action="append",
            default=[],
            help=(
                "Identifiant ou code de démarche (répétable) ; par défaut toutes les actives. "
                "Une démarche désactivée n'est jamais synchronisée."
            ),
        )
        parser.add_argument("--concurrency", type=int, default=None)

    def handle(self, *args, demarche, concurrency, **options):
        ids = self.select(demarche)
        if not ids:
            if demarche:
                self.stderr.write(
                    "Aucune des démarches demandées n'est active : rien n'a été synchronisé."
                )
                raise SystemExit(1)
            self.stdout.write("Aucune démarche active : rien à synchroniser.")
            return

        started = time.monotonic()
        results = run.run_all(ids, on_result=self.print_outcome, concurrency=concurrency)
        elapsed = time.monotonic() - started
        outcomes = [r for r in results if not r.disabled]
        created = sum(o.run.dossiers_created for o in outcomes if o.run)
        files = sum(o.run.files_downloaded for o in outcomes if o.run)
        pending = sum(o.pending_failures for o in outcomes)
        pushes = sum(o.pending_pushes for o in outcomes)
        unreachable = [o for o in outcomes if o.connection_error]
        stopped = [o for o in outcomes if o.error and not o.connection_error]
        rate = created / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            f"Terminé en {elapsed:.1f} s : {len(outcomes)} démarche(s), {created} dossier(s) "
            f"créé(s) ({rate:.1f}/s), {files} fichier(s), {pending} notification(s) en échec "
            f"en attente, {pushes} envoi(s) en attente, {len(unreachable)} démarche(s) "
            f"injoignable(s), {len(stopped)} démarche(s) interrompue(s)."
        )
        if unreachable:
            raise SystemExit(2)
        if pending or stopped or (demarche and not outcomes):
            raise SystemExit(1)

    def select(self, values: list[str]) -> list[int]:
        """The ids to sync, in name order: the enabled démarches, or the named ones that are
        enabled (each named disabled one gets its line)."""
        queryset = Demarche.objects.all()
        if not values:
            return list(run.enabled().values_list("pk", flat=True))
        condition = Q()
        for value in values:
            condition |= Q(process_code=value)
            if value.isdigit():
                condition |= Q(pk=int(value))
        named = list(queryset.filter(condition))
        if not named:
            raise CommandError(f"Aucune démarche ne correspond à {', '.join(values)}.")
        allowed = set(run.enabled(queryset.filter(condition)).values_list("pk", flat=True))
        for one in named:
            if one.pk not in allowed:
                self.print_disabled(one)
        return [one.pk for one in named if one.pk in allowed]

    def print_disabled(self, demarche: Demarche) -> None:
        self.stdout.write(
            self.style.WARNING(
                f"- {demarche.name} ({demarche.process_code}) : désactivée, non synchronisée."
            )
        )

    def print_outcome(self, outcome: DemarcheResult) -> None:
        if outcome.disabled:
            # Disabled (or deleted) while the previous ones ran: not contacted.
            if Demarche.objects.filter(pk=outcome.demarche.pk).exists():
                self.print_disabled(outcome.demarche)
            return
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
