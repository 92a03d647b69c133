"""Create the first administrator account, once, and print its password."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Crée le compte administrateur initial (une seule fois) et affiche son mot de passe."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--summary-file",
            help="Fichier où ajouter le compte créé, pour le récapitulatif de `make run`.",
        )

    def handle(self, *args, username: str, summary_file: str | None = None, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            # Development mode is asked for on the command line (make run): say so.
            dev = "DEBUG=true " if settings.DEBUG else ""
            self.stdout.write(
                "Un compte administrateur existe déjà (son mot de passe a été affiché au "
                f"premier lancement ; `{dev}.venv/bin/python manage.py changepassword "
                "<identifiant>` le change)."
            )
            add_to_summary(summary_file, username=None, role="administrateur", password=None)
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        add_to_summary(summary_file, username=username, role="administrateur", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "\nCompte administrateur créé — notez ce mot de passe, il ne sera plus affiché :\n"
                f"  identifiant : {username}\n  mot de passe : {password}\n"
            )
        )


def add_to_summary(path: str | None, **account: str | None) -> None:
    """One JSON line per account; the file is make run's own (mktemp, mode 600), then deleted."""
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(json.dumps(account) + "\n")
