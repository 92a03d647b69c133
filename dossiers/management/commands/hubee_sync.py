"""One synchronisation pass in the foreground."""

import time
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from demarches.models import Demarche
from dossiers.exchange.inbound.sync import SyncOutcome, sync_all


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
        outcomes = sync_all(
            self.still_enabled(ids), on_result=self.print_outcome, concurrency=concurrency
        )
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
        if pending or stopped or (demarche and not outcomes):
            raise SystemExit(1)

    def select(self, values: list[str]) -> list[int]:
        """The ids to sync, in name order: the enabled démarches, or the named ones that are
        enabled (each named disabled one gets its line)."""
        queryset = Demarche.objects.all()
        if not values:
            return list(queryset.filter(enabled=True).values_list("pk", flat=True))
        condition = Q()
        for value in values:
            condition |= Q(process_code=value)
            if value.isdigit():
                condition |= Q(pk=int(value))
        named = list(queryset.filter(condition))
        if not named:
            raise CommandError(f"Aucune démarche ne correspond à {', '.join(values)}.")
        for one in named:
            if not one.enabled:
                self.print_disabled(one)
        return [one.pk for one in named if one.enabled]

    def still_enabled(self, ids: list[int]) -> Iterator[Demarche]:
        """Re-read each démarche just before its sync: one disabled (or deleted) while the
        previous ones ran is not contacted."""
        for pk in ids:
            demarche = Demarche.objects.select_related("connection").filter(pk=pk).first()
            if demarche is None:
                continue
            if not demarche.enabled:
                self.print_disabled(demarche)
                continue
            yield demarche

    def print_disabled(self, demarche: Demarche) -> None:
        self.stdout.write(
            self.style.WARNING(
                f"- {demarche.name} ({demarche.process_code}) : désactivée, non synchronisée."
            )
        )

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
