"""Re-encrypt every stored secret with the first ENCRYPTION_KEY (after a key change)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from demarches import crypto
from demarches.models import Demarche


class Command(BaseCommand):
    help = (
        "Rechiffre les secrets clients avec la première clé de ENCRYPTION_KEY "
        "(ENCRYPTION_KEY=nouvelle,ancienne), après quoi l'ancienne clé peut être retirée."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for demarche in Demarche.objects.select_for_update().exclude(
                client_secret_encrypted=""
            ):
                demarche.client_secret_encrypted = crypto.rotate(demarche.client_secret_encrypted)
                demarche.save(update_fields=["client_secret_encrypted", "updated_at"])
                count += 1
        self.stdout.write(
            self.style.SUCCESS(f"{count} secret(s) rechiffré(s) avec la nouvelle clé.")
        )
