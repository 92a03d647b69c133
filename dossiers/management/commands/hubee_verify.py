"""Re-hash stored files: `python manage.py hubee_verify [--demarche ID_OR_CODE]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dossiers.operations.integrity import select_demarches, verify


class Command(BaseCommand):
    help = (
        "Vérifie l'intégrité des pièces enregistrées (SHA-256) ; code de sortie 1 si un "
        "fichier manque ou a été modifié."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demarche", help="Identifiant ou code de la démarche (processCode).")

    def handle(self, *args, demarche=None, **options):
        demarches = list(select_demarches(demarche))
        if not demarches:
            raise CommandError(f"Aucune démarche ne correspond à « {demarche} ».")
        problems = 0
        for check in verify(demarches):
            line = (
                f"Démarche {check.demarche_id} ({check.demarche.process_code}) : "
                f"{check.files_checked} fichier(s) vérifié(s), {check.missing} manquant(s), "
                f"{check.altered} altéré(s)."
            )
            if check.ok:
                self.stdout.write(self.style.SUCCESS(line))
                continue
            problems += check.missing + check.altered
            self.stdout.write(self.style.ERROR(line))
            for kind, label in (("missing", "manquante"), ("altered", "altérée")):
                for pk in check.details[kind]:
                    self.stdout.write(f"  pièce jointe {pk} {label}")
        if problems:
            raise SystemExit(1)
