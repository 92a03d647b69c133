"""Import the configuration of the official DINUM script (config.py or config.toml)."""

from django.core.management.base import BaseCommand, CommandError

from demarches.config_import import ConfigImportError, load_config
from demarches.services import apply_config, format_report


class Command(BaseCommand):
    help = (
        "Importe la configuration du script officiel HubEE de la DINUM (config.py, ou "
        "config.toml des versions TOML et v2.0.0) : connexion HubEE, organisation et démarches, "
        "en une seule transaction (tout ou rien). Le fichier config.py est lu, jamais exécuté."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Chemin du fichier config.py ou config.toml du script.")
        parser.add_argument(
            "--organisation",
            metavar="SIRET",
            help=(
                "SIRET de l'organisation qui reçoit les démarches (créée si elle n'existe pas). "
                "Facultatif s'il n'existe qu'une organisation."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vérifie tout et affiche ce qui serait fait, sans rien enregistrer.",
        )
        parser.add_argument(
            "--keep-automatic-final",
            action="store_true",
            help=(
                "Reproduit le script : le statut maximal (DONE ou REFUSED) devient le statut "
                "final automatique, appliqué dès la réception de chaque dossier."
            ),
        )
        parser.add_argument(
            "--enable",
            action="store_true",
            help="Active les démarches importées (sinon les nouvelles restent désactivées).",
        )

    def handle(self, *args, path, organisation, dry_run, keep_automatic_final, enable, **options):
        try:
            config = load_config(path)
            report = apply_config(
                config,
                organisation_siret=organisation,
                dry_run=dry_run,
                keep_automatic_final=keep_automatic_final,
                enable=enable,
            )
        except ConfigImportError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(format_report(report))
