"""Retry the files the sync gave up: `python manage.py hubee_retry_downloads [ID_OR_CODE…]
[--piece ID…]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from demarches.hubee import ConfigurationError
from dossiers.exchange import connection
from dossiers.exchange.inbound.retry import retry_failed_downloads
from dossiers.exchange.run import enabled
from dossiers.operations.integrity import select_demarches


class Command(BaseCommand):
    help = (
        "Télécharge de nouveau les fichiers que la synchronisation a abandonnés (trop "
        "volumineux, ou taille ou empreinte fausses à chaque essai) : un essai par fichier."
    )
    # Tests hand their own client factory (the sandbox's).
    stealth_options = ("client",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "demarches", nargs="*", help="Identifiants ou codes des démarches (toutes par défaut)."
        )
        parser.add_argument(
            "--piece", type=int, action="append", help="Identifiant d'une pièce jointe (répétable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demarches = []
        for wanted in options["demarches"] or [None]:
            found = list(enabled(select_demarches(wanted)))
            if not found:
                raise CommandError(f"Aucune démarche active ne correspond à « {wanted} ».")
            demarches.extend(found)
        client_for = options.get("client") or connection.client_for
        failed = 0
        for demarche in demarches:
            label = f"Démarche {demarche.pk} ({demarche.process_code})"
            try:
                client = client_for(demarche)
            except ConfigurationError as exc:
                self.stdout.write(self.style.ERROR(f"{label} : {exc.summary}"))
                failed += 1
                continue
            outcome = retry_failed_downloads(demarche, client, options["piece"])
            if outcome.busy:
                self.stdout.write(
                    self.style.WARNING(f"{label} : synchronisation en cours, relancez plus tard.")
                )
                failed += 1
                continue
            line = (
                f"{label} : {outcome.stored} fichier(s) téléchargé(s), {outcome.failed} en échec."
            )
            self.stdout.write(
                self.style.ERROR(line) if outcome.failed else self.style.SUCCESS(line)
            )
            failed += outcome.failed
        if failed:
            self.stdout.write(
                "Les fichiers en échec restent « Non téléchargée » ; leur raison est sur la page "
                "du dossier."
            )
