"""Create the first administrator account, once, and print its password."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Crée le compte administrateur initial (une seule fois) et affiche son mot de passe."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            # Development mode is asked for on the command line (make run): say so.
            dev = "DEBUG=true " if settings.DEBUG else ""
            self.stdout.write(
                "Un compte administrateur existe déjà (son mot de passe a été affiché au "
                f"premier lancement ; `{dev}python manage.py changepassword <identifiant>` le "
                "change)."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(
            self.style.SUCCESS(
                "\nCompte administrateur créé — notez ce mot de passe, il ne sera plus affiché :\n"
                f"  identifiant : {username}\n  mot de passe : {password}\n"
            )
        )
