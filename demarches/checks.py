"""Deploy checks (`manage.py check --deploy`) on where the portal talks to HubEE.

They live in `demarches`, the configuration domain: it owns the HubEE connections and the
rules on their URLs, which HUBEE_SANDBOX relaxes (http and loopback are accepted while it is
on). Each check is a function registered below with `deploy=True` and returns a list of
messages; ids are `hubee_portal.E<nnn>` (errors) and `hubee_portal.W<nnn>` (warnings), each used
once, and every message says in French what to do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

SANDBOX_IN_PRODUCTION = "hubee_portal.E001"
CONNECTION_URL_REFUSED = "hubee_portal.E002"
ANY_HOST_ALLOWED = "hubee_portal.W001"


def _in_production() -> bool:
    return not settings.DEBUG


@checks.register(checks.Tags.security, deploy=True)
def sandbox_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The fake HubEE answers anyone and lets connections use http and loopback URLs."""
    if not (_in_production() and settings.HUBEE_SANDBOX):
        return []
    return [
        checks.Error(
            "Le bac à sable HubEE (HUBEE_SANDBOX) est actif alors que DEBUG est désactivé : un "
            "faux HubEE est servi sous /sandbox/ et les connexions HubEE peuvent viser des "
            "adresses http ou locales.",
            hint="En production, retirez HUBEE_SANDBOX du .env (ou mettez HUBEE_SANDBOX=false). "
            "Le bac à sable sert au développement et à la démonstration sur un poste de travail "
            "(DEBUG=true, comme le fait `make run`).",
            id=SANDBOX_IN_PRODUCTION,
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def connections_reach_hubee_only(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """In production every connection's URLs follow the rules without the sandbox's leniency:
    a demo's http://127.0.0.1 URLs left in a production database are an error, not a surprise
    at the first sync."""
    if not _in_production():
        return []
    from demarches.models import HubEEConnection

    try:
        connections = list(HubEEConnection.objects.order_by("name"))
    except DatabaseError:
        # Before the first migrate there is nothing to check; the sync checks again anyway.
        return []
    errors = []
    for connection in connections:
        for _, label, url, problem in connection.destination_problems(sandbox=False):
            errors.append(
                checks.Error(
                    f"Connexion HubEE « {connection.name} », {label} ({url}) : {problem}",
                    hint="Un superutilisateur corrige ses URL dans l'administration "
                    "(Connexions HubEE), ou supprime cette connexion si elle venait de la "
                    "démonstration ; les secrets de ses démarches sont alors à ressaisir.",
                    obj=connection,
                    id=CONNECTION_URL_REFUSED,
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def allowed_hosts_not_open(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if "*" not in settings.HUBEE_ALLOWED_HOSTS:
        return []
    return [
        checks.Warning(
            "HUBEE_ALLOWED_HOSTS contient « * » : un secret client HubEE peut être envoyé à "
            "n'importe quel serveur https.",
            hint="Listez seulement les serveurs de HubEE (la valeur par défaut) et, au besoin, "
            "le nom du relais par lequel votre réseau les joint.",
            id=ANY_HOST_ALLOWED,
        )
    ]


ANTIVIRUS_OFF = "hubee_portal.W010"
QUARANTINE_INSIDE_DOWNLOADS = "hubee_portal.W011"


@checks.register(checks.Tags.security, deploy=True)
def antivirus_on(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Agents open the citizens' files on their workstations: clamd scans each one first
    (dossiers.records.antivirus)."""
    found: list[checks.CheckMessage] = []
    if settings.ANTIVIRUS == "off":
        found.append(
            checks.Warning(
                "ANTIVIRUS=off : les fichiers reçus ne sont analysés par aucun antivirus avant "
                "que les agents les ouvrent.",
                hint="Installez clamav-daemon, puis mettez ANTIVIRUS=clamd et CLAMD_SOCKET dans "
                "le .env (docs/installation-et-production.md, « Antivirus »).",
                id=ANTIVIRUS_OFF,
            )
        )
    quarantine = settings.HUBEE_QUARANTINE_DIR
    root = settings.HUBEE_DOWNLOAD_ROOT
    if quarantine == root or root in quarantine.parents:
        found.append(
            checks.Warning(
                f"HUBEE_QUARANTINE_DIR ({quarantine}) est dans HUBEE_DOWNLOAD_ROOT : les fichiers "
                "infectés resteraient à portée des outils qui lisent les dossiers des démarches.",
                hint="Choisissez un dossier à part, lisible du seul portail (par défaut "
                "DATA_DIR/quarantaine).",
                id=QUARANTINE_INSIDE_DOWNLOADS,
            )
        )
    return found


ENVIRONMENT_MISMATCH = "hubee_portal.W020"


@checks.register(checks.Tags.security, deploy=True)
def environment_matches_connections(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """PORTAL_ENVIRONMENT=production hides the banner: agents would take a démarche still on
    HubEE's recette for the real one (issue 21)."""
    if settings.PORTAL_ENVIRONMENT != "production":
        return []
    from demarches.enums import Environment
    from demarches.models import Demarche

    try:
        elsewhere = list(
            Demarche.objects.filter(enabled=True)
            .exclude(connection__environment=Environment.PRODUCTION)
            .order_by("name")
            .values_list("name", "connection__name")
        )
    except DatabaseError:
        return []
    return [
        checks.Warning(
            f"PORTAL_ENVIRONMENT vaut production, mais la démarche active « {name} » passe par la "
            f"connexion HubEE « {connection} », qui n'est pas celle de la production : aucun "
            "bandeau n'avertit les agents que ses dossiers sont des dossiers de test.",
            hint="Rattachez la démarche à une connexion « Production », désactivez-la, ou "
            "indiquez dans le .env l'environnement réel de ce portail (PORTAL_ENVIRONMENT=recette "
            "ou preproduction).",
            id=ENVIRONMENT_MISMATCH,
        )
        for name, connection in elsewhere
    ]
