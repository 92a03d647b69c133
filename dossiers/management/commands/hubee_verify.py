"""Re-hash stored files: `python manage.py hubee_verify [--demarche ID_OR_CODE] [--antivirus]`;
with --antivirus, scan them all again with clamd (its signatures are newer than the files)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dossiers.enums import AttachmentState, ScanState
from dossiers.models import PieceJointe
from dossiers.operations.integrity import select_demarches, verify
from dossiers.records import antivirus


class Command(BaseCommand):
    help = (
        "Vérifie l'intégrité des pièces enregistrées (SHA-256) ; code de sortie 1 si un "
        "fichier manque ou a été modifié."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demarche", help="Identifiant ou code de la démarche (processCode).")
        parser.add_argument(
            "--antivirus",
            action="store_true",
            help="Analyse aussi de nouveau chaque fichier avec clamd (ANTIVIRUS=clamd) : les "
            "fichiers infectés sont mis en quarantaine ; code de sortie 1 s'il y en a.",
        )

    def handle(self, *args, demarche=None, **options):
        demarches = list(select_demarches(demarche))
        if not demarches:
            raise CommandError(f"Aucune démarche ne correspond à « {demarche} ».")
        if options.get("antivirus") and not antivirus.enabled():
            raise CommandError(
                "ANTIVIRUS=off : aucune analyse possible. Installez clamav-daemon et mettez "
                "ANTIVIRUS=clamd (docs/installation-et-production.md, « Antivirus »)."
            )
        problems = self.rescan(demarches) if options.get("antivirus") else 0
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

    def rescan(self, demarches) -> int:
        """Every stored file of these démarches through clamd; returns the infected count."""
        found = 0
        for demarche in demarches:
            started = timezone.now()
            ids = PieceJointe.objects.filter(
                dossier__demarche=demarche, state=AttachmentState.STORED
            ).values_list("pk", flat=True)
            counts = antivirus.scan_pieces(list(ids), rescan=True)
            if counts.get("waiting"):
                raise CommandError(
                    f"L'antivirus (clamd, {settings.CLAMD_SOCKET}) ne répond pas : "
                    "analyse interrompue. Vérifiez le service clamav-daemon."
                )
            infected = list(
                PieceJointe.objects.filter(
                    dossier__demarche=demarche, scan=ScanState.INFECTED, scanned_at__gte=started
                ).values_list("pk", "scan_signature")
            )
            line = (
                f"Démarche {demarche.pk} ({demarche.process_code}) : antivirus, "
                f"{sum(counts.get(k, 0) for k in ('clean', 'infected', 'unscannable'))} "
                f"fichier(s) analysé(s), {len(infected)} infecté(s) mis en quarantaine, "
                f"{counts.get('unscannable', 0)} non analysable(s)."
            )
            self.stdout.write(self.style.ERROR(line) if infected else self.style.SUCCESS(line))
            for pk, signature in infected:
                self.stdout.write(f"  pièce jointe {pk} bloquée ({signature})")
            found += len(infected)
        return found
