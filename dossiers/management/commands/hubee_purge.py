"""RGPD purge of expired dossiers: `python manage.py hubee_purge [--dry-run]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dossiers.retention import purge


class Command(BaseCommand):
    help = (
        "Supprime les fichiers et les données personnelles des dossiers dont la durée de "
        "conservation est écoulée (une trace anonyme reste). --dry-run : affiche sans rien "
        "supprimer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Affiche ce qui serait purgé, sans rien changer."
        )

    def handle(self, *args, dry_run=False, **options):
        result = purge(dry_run=dry_run)
        verb = "serait purgé" if dry_run else "purgé"
        for dossier in result.dossiers:
            failed = " (fichiers non supprimés, nouvel essai au prochain passage)"
            self.stdout.write(
                f"Dossier {dossier.pk} (démarche {dossier.demarche_id}, statut {dossier.status}, "
                f"final le {dossier.final_at:%d/%m/%Y}) : {verb}"
                + (failed if dossier.pk in result.errors else "")
            )
        prefix = "Simulation : " if dry_run else ""
        self.stdout.write(
            f"{prefix}{len(result.dossiers)} dossier(s), {result.files} fichier(s), "
            f"{result.bytes} octet(s)."
        )
