"""Create the first administrator account, once, and print its password."""

import json
import os
import secrets
import stat

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


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
    """One JSON line per account, in a file only its owner reads (make run's mktemp, 600).

    Created 600 if missing; never through a symlink, never into another user's or a shared
    file: it may hold a one-time password."""
    if not path:
        return
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as exc:
        raise CommandError(
            f"--summary-file {path} : impossible de l'ouvrir ({exc.strerror})."
        ) from exc
    with os.fdopen(descriptor, "a", encoding="utf-8") as summary:
        info = os.fstat(descriptor)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.getuid()
            or stat.S_IMODE(info.st_mode) & 0o077
        ):
            raise CommandError(
                f"--summary-file {path} : le fichier doit être un fichier ordinaire à vous, "
                "lisible par vous seul (mode 600), car il reçoit un mot de passe."
            )
        summary.write(json.dumps(account) + "\n")
