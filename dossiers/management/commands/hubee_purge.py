"""RGPD purge of expired dossiers: `python manage.py hubee_purge [--dry-run]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dossiers.operations.retention import purge


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
            if dossier.pk in result.postponed:
                outcome = "reporté (un envoi à HubEE est encore en attente)"
            elif dossier.pk in result.errors:
                outcome = "fichiers non tous supprimés : nouvel essai au prochain passage"
            else:
                outcome = verb
            self.stdout.write(
                f"Dossier {dossier.pk} (démarche {dossier.demarche_id}, statut {dossier.status}, "
                f"final le {dossier.final_at:%d/%m/%Y}) : {outcome}"
            )
        for demarche_id in result.busy_demarches:
            self.stdout.write(
                f"Démarche {demarche_id} : synchronisation en cours, purgée au prochain passage."
            )
        prefix = "Simulation : " if dry_run else ""
        count = len(result.dossiers) if dry_run else result.purged
        self.stdout.write(
            f"{prefix}{count} dossier(s), {result.files} fichier(s), {result.bytes} octet(s)."
        )
