"""Set up the demo of `make run`: démarches wired to the built-in sandbox, an agent, dossiers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demarches.management.commands.hubee_bootstrap import add_to_summary
from demarches.validators import hubee_url_problem
from hubee_portal.demo import seeding


class Command(BaseCommand):
    help = (
        "Prépare la démonstration : la « Commune de Démoville », une démarche active par code "
        "de démarche du bac à sable HubEE intégré, un compte agent habilité et quelques "
        "télédossiers déposés. Relancer ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default=seeding.DEFAULT_BASE_URL,
            help="Adresse à laquelle le portail (et donc son bac à sable) est servi.",
        )
        parser.add_argument(
            "--dossiers",
            type=int,
            default=seeding.DEFAULT_DOSSIERS,
            help="Télédossiers déposés par démarche à la première préparation.",
        )
        parser.add_argument(
            "--summary-file",
            help="Fichier où ajouter le compte agent, pour le récapitulatif de `make run`.",
        )

    def handle(
        self,
        *args: Any,
        base_url: str,
        dossiers: int,
        summary_file: str | None = None,
        **options: Any,
    ) -> None:
        if not settings.HUBEE_SANDBOX:
            raise CommandError(
                "Le bac à sable HubEE est désactivé (HUBEE_SANDBOX=false) : la démonstration "
                "en a besoin. Ne la préparez pas sur un portail de production."
            )
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommandError(f"--base-url doit être une adresse http(s), pas « {base_url} ».")
        problem = hubee_url_problem(base_url)
        if problem:
            # The démarches' secrets go to this address: the same policy as any connection.
            raise CommandError(
                f"--base-url {base_url} : {problem} Servez la démonstration sur 127.0.0.1 "
                "(HOST=0.0.0.0 make run sert aussi les autres interfaces)."
            )
        if dossiers < 0:
            raise CommandError("--dossiers doit être positif ou nul.")
        result = seeding.set_up(base_url, dossiers)
        add_to_summary(
            summary_file,
            username=seeding.AGENT_USERNAME,
            role="agent",
            password=result.agent_password or None,
        )
        sandbox_url = f"{result.base_url}/sandbox/"
        codes = ", ".join(d.process_code for d in result.demarches)
        if not result.changed:
            # Development mode is asked for on the command line (make run): say so.
            dev = "DEBUG=true " if settings.DEBUG else ""
            self.stdout.write(
                f"Démonstration déjà prête ({len(result.demarches)} démarches reliées au bac à "
                f"sable : {codes}) ; rien n'a changé. Compte agent « {seeding.AGENT_USERNAME} » : "
                "mot de passe affiché au premier lancement "
                f"(`{dev}.venv/bin/python manage.py changepassword {seeding.AGENT_USERNAME}` le "
                f"change). Côté opérateur : {sandbox_url}"
            )
            return
        lines = [
            "",
            f"Démonstration prête : « {seeding.ORGANISATION_NAME} », {len(result.demarches)} "
            f"démarches actives reliées au bac à sable HubEE ({codes}).",
        ]
        if not result.fresh:
            lines.append("  Complété : " + " ; ".join(result.created) + ".")
        if result.deposited:
            lines.append(
                f"  {result.deposited} télédossiers déposés : le portail les recevra à sa "
                "prochaine synchronisation (chaque minute, par le worker)."
            )
        lines.append(
            f"  Côté opérateur (comptes administrateurs) : {sandbox_url} — déposer d'autres "
            "télédossiers, répondre comme l'usager, simuler des pannes."
        )
        self.stdout.write("\n".join(lines))
        if result.agent_password:
            self.stdout.write(
                self.style.SUCCESS(
                    "\nCompte agent créé, habilité sur les démarches de démonstration — notez ce "
                    "mot de passe, il ne sera plus affiché :\n"
                    f"  identifiant : {seeding.AGENT_USERNAME}\n"
                    f"  mot de passe : {result.agent_password}\n"
                )
            )
