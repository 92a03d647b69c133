"""HubEE's daily purge in the sandbox, on an adjustable clock: `--days-later N`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hubee_portal.sandbox import services
from hubee_portal.sandbox.forms import MAX_DAYS_LATER


class Command(BaseCommand):
    help = (
        "Passe la purge quotidienne du bac à sable HubEE selon les règles de conservation de "
        "chaque démarche : fichiers supprimés (DELETED), télédossiers clos archivés, télédossiers "
        "archivés supprimés (404). --days-later N la passe comme si nous étions N jours plus tard."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days-later",
            type=int,
            default=0,
            help="Avance l'horloge de la purge de ce nombre de jours (0 par défaut).",
        )

    def handle(self, *args: Any, days_later: int, **options: Any) -> None:
        if not settings.HUBEE_SANDBOX:
            raise CommandError(
                "Le bac à sable est désactivé (HUBEE_SANDBOX=false) : rien à purger."
            )
        if not 0 <= days_later <= MAX_DAYS_LATER:
            raise CommandError(f"--days-later doit être compris entre 0 et {MAX_DAYS_LATER}.")
        result = services.run_purge(now=timezone.now() + timedelta(days=days_later))
        self.stdout.write(result.summary())
