"""Serve the portal and its HubEE sandbox to other processes, with keep-alive connections."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hubee_portal.sandbox.server import make_server


class Command(BaseCommand):
    help = (
        "Sert le portail et son bac à sable HubEE (/sandbox/) en HTTP/1.1 avec connexions "
        "persistantes : la latence par nouvelle connexion et le journal des appels y savent "
        "quelle requête ouvre une connexion (sous runserver, aucune ne le fait)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Adresse d'écoute.")
        parser.add_argument(
            "--port", type=int, default=8765, help="Port d'écoute (0 : un port libre)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.HUBEE_SANDBOX:
            raise CommandError(
                "Le bac à sable est désactivé : définissez HUBEE_SANDBOX=true pour le servir."
            )
        host: str = options["host"]
        try:
            server = make_server(host, options["port"])
        except OSError as exc:
            raise CommandError(
                f"Impossible d'écouter sur {host}:{options['port']} : {exc}"
            ) from exc
        shown = f"[{host}]" if ":" in host else host
        # Tests read this line to learn the port.
        self.stdout.write(f"Bac à sable HubEE : http://{shown}:{server.server_port}/sandbox/")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
