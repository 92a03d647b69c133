"""The demo `make run` sets up: a commune whose démarches talk to the built-in sandbox.

Idempotent: every object is looked up first, and a second run changes nothing (it only mends
what is missing). Secrets are generated here, stored in clear in the sandbox (fake credentials)
and encrypted in the démarche, like real ones.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from demarches.enums import AutomaticStatus, Environment
from demarches.models import Demarche, HubEEConnection, Organisation, ReplyTemplate
from demarches.reply_templates import Purpose
from hubee_portal.sandbox import content, services
from hubee_portal.sandbox.models import Subscription
from hubee_portal.sandbox.proconnect.identities import DEMO_AGENT_EMAIL, DEMOVILLE_SIRET

ORGANISATION_NAME = "Commune de Démoville"
# Fictitious, 14 digits with a valid Luhn key; the branch code of a commune is its INSEE code.
ORGANISATION_SIRET = DEMOVILLE_SIRET  # the fake ProConnect's identities carry it
ORGANISATION_BRANCH_CODE = "99999"
EDITOR_NAME = "COMMUNE DE DEMOVILLE"
CONNECTION_NAME = "Bac à sable"
AGENT_USERNAME = "agent"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_DOSSIERS = 3

# Rules per démarche, after API.md §6.3 (intermediate status) and §10 / FAQ (exchanges):
# CertDC allows neither messages, nor complements, nor returned documents, and ends in DONE;
# the DILA démarches take SI_RECEIVED and messages; the census lets the commune return its
# attestation. Complements (ADD_AWAITING) are allowed for the DILA démarches of the demo.
DEMARCHES: dict[str, dict[str, Any]] = {
    "EtatCivil": {
        "automatic_status": AutomaticStatus.SI_RECEIVED,
        "allows_messages": True,
        "allows_add_awaiting": True,
        "allows_document_return": False,
        "allow_refused": True,
    },
    "recensementCitoyen": {
        "automatic_status": AutomaticStatus.SI_RECEIVED,
        "allows_messages": True,
        "allows_add_awaiting": True,
        "allows_document_return": True,
        "allow_refused": True,
    },
    "depotDossierPACS": {
        "automatic_status": AutomaticStatus.SI_RECEIVED,
        "allows_messages": True,
        "allows_add_awaiting": True,
        "allows_document_return": False,
        "allow_refused": True,
    },
    "JeChangeDeCoordonnees": {
        "automatic_status": AutomaticStatus.SI_RECEIVED,
        "allows_messages": True,
        "allows_add_awaiting": True,
        "allows_document_return": False,
        "allow_refused": True,
    },
    "CERTDC": {
        "automatic_status": AutomaticStatus.IN_PROGRESS,
        "allows_messages": False,
        "allows_add_awaiting": False,
        "allows_document_return": False,
        "allow_refused": False,
    },
}
SUBSCRIPTION_RULES = ("allows_messages", "allows_add_awaiting", "allows_document_return")

# Reply templates of every démarche that allows messages (none for CERTDC): the first one's
# name and news depend on the démarche.
DONE_WORDS: dict[str, tuple[str, str]] = {
    "EtatCivil": ("Acte envoyé", "l'acte vous a été envoyé par courrier."),
    "recensementCitoyen": (
        "Attestation disponible",
        "votre attestation de recensement est jointe à votre espace.",
    ),
    "depotDossierPACS": (
        "Rendez-vous à fixer",
        "le service vous contactera pour fixer le rendez-vous d'enregistrement.",
    ),
    "JeChangeDeCoordonnees": (
        "Coordonnées mises à jour",
        "vos nouvelles coordonnées sont enregistrées.",
    ),
}
DEFAULT_DONE_WORDS = ("Demande traitée", "votre demande a abouti.")
SIGNATURE = "\n\nLe service des démarches de la commune de Démoville"


def demo_reply_templates(process_code: str) -> list[tuple[str, str, str]]:
    """(name, purpose, text) of the démarche's demo templates."""
    done_name, news = DONE_WORDS.get(process_code, DEFAULT_DONE_WORDS)
    hello = "Bonjour {prenom} {nom},\n\n"
    return [
        (
            done_name,
            Purpose.MESSAGE,
            f"{hello}Votre demande n° {{numero}} ({{demarche}}), déposée le {{date_depot}}, "
            f"est traitée : {news}{SIGNATURE}",
        ),
        (
            "Pièce manquante",
            Purpose.COMPLEMENT,
            f"{hello}Pour traiter votre demande n° {{numero}} ({{demarche}}), il nous manque "
            "un justificatif de domicile de moins de trois mois. Merci de le déposer depuis "
            f"votre espace.{SIGNATURE}",
        ),
        (
            "Refus : demande incomplète",
            Purpose.REFUSAL,
            f"{hello}Votre demande n° {{numero}} ({{demarche}}), déposée le {{date_depot}}, "
            "ne peut pas aboutir : les pièces demandées n'ont pas été fournies. Vous pouvez "
            f"déposer une nouvelle demande complète.{SIGNATURE}",
        ),
    ]


@dataclass
class DemoResult:
    base_url: str
    created: list[str] = field(default_factory=list)  # what this run created or mended
    demarches: list[Demarche] = field(default_factory=list)
    deposited: int = 0
    agent_password: str | None = None  # set only when the agent account was created
    fresh: bool = False  # a first run (nothing of the demo existed)

    @property
    def changed(self) -> bool:
        return bool(self.created)


PURGE_SCHEDULE_NAME = "Bac à sable : purge quotidienne de HubEE"


def client_id(process_code: str) -> str:
    return f"demo-{process_code}"


def download_folder(process_code: str) -> Path:
    return Path(settings.HUBEE_DOWNLOAD_ROOT) / "demo" / process_code


def _seed(process_code: str, number: int) -> int:
    return zlib.crc32(f"hubee-demo:{process_code}:{number}".encode())


def set_up(base_url: str = DEFAULT_BASE_URL, dossiers: int = DEFAULT_DOSSIERS) -> DemoResult:
    """Create (or complete) the demo; see the module docstring."""
    base_url = base_url.rstrip("/")
    result = DemoResult(base_url=base_url)
    with transaction.atomic():
        organisation = _organisation(result)
        connection = _connection(result, base_url)
        agent = _agent(result)
        subscriptions = []
        _purge_schedule(result)
        for process_code in content.SUPPORTED_PROCESS_CODES:
            demarche, subscription = _demarche(result, organisation, connection, process_code)
            if not demarche.agents.filter(pk=agent.pk).exists():
                demarche.agents.add(agent)
                result.created.append(f"habilitation de l'agent sur {process_code}")
            _reply_templates(result, demarche)
            result.demarches.append(demarche)
            subscriptions.append(subscription)
    # Deposits write files: outside the transaction (each deposit is its own).
    for subscription in subscriptions:
        if subscription.cases.exists():
            continue
        for number in range(1, dossiers + 1):
            # Every other dossier carries a JPEG scan, to try the previews on.
            services.deposit_generated_case(
                subscription,
                seed=_seed(subscription.process_code, number),
                scan=number % 2 == 1,
            )
            result.deposited += 1
        if dossiers:
            result.created.append(f"{dossiers} télédossiers {subscription.process_code}")
    return result


def _purge_schedule(result: DemoResult) -> None:
    """HubEE purges every night: so does the demo's fake HubEE (run by the portal's worker)."""
    from django_q.models import Schedule

    _, created = Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={
            "func": "hubee_portal.sandbox.services.run_purge",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
    if created:
        result.created.append("purge quotidienne du bac à sable")


def _reply_templates(result: DemoResult, demarche: Demarche) -> None:
    """The démarche's missing demo templates (by name): an edited one is left as it is."""
    if not demarche.allows_messages:
        return
    existing = set(demarche.reply_templates.values_list("name", flat=True))
    for name, purpose, text in demo_reply_templates(demarche.process_code):
        if name in existing:
            continue
        template = ReplyTemplate(demarche=demarche, name=name, purpose=purpose, text=text)
        template.full_clean()
        template.save()
        result.created.append(f"modèle de réponse « {name} » ({demarche.process_code})")


def _organisation(result: DemoResult) -> Organisation:
    organisation = Organisation.objects.filter(siret=ORGANISATION_SIRET).first()
    if organisation is None:
        organisation = Organisation(
            name=ORGANISATION_NAME,
            siret=ORGANISATION_SIRET,
            code_guichet=ORGANISATION_BRANCH_CODE,
        )
        organisation.full_clean()
        organisation.save()
        result.created.append(f"organisation « {ORGANISATION_NAME} »")
        result.fresh = True
    return organisation


def _connection(result: DemoResult, base_url: str) -> HubEEConnection:
    token_url = f"{base_url}/sandbox/oauth2/token"
    api_url = f"{base_url}/sandbox"
    connection = HubEEConnection.objects.filter(name=CONNECTION_NAME).first()
    if connection is None:
        connection = HubEEConnection(
            name=CONNECTION_NAME,
            environment=Environment.CUSTOM,
            token_url=token_url,
            api_url=api_url,
            editor_name=EDITOR_NAME,
        )
        connection.full_clean()
        connection.save()
        result.created.append(f"connexion « {CONNECTION_NAME} » ({api_url})")
    elif (connection.token_url, connection.api_url) != (token_url, api_url):
        # The portal now runs elsewhere (another port): the sandbox moved with it.
        connection.token_url, connection.api_url = token_url, api_url
        connection.full_clean()
        connection.save()
        result.created.append(f"adresse de la connexion « {CONNECTION_NAME} » : {api_url}")
    return connection


def _agent(result: DemoResult) -> Any:
    User = get_user_model()
    agent = User.objects.filter(username=AGENT_USERNAME).first()
    if agent is None:
        result.agent_password = secrets.token_urlsafe(12)
        agent = User.objects.create_user(
            username=AGENT_USERNAME,
            password=result.agent_password,
            first_name="Agent",
            last_name="de démonstration",
            # The fake ProConnect's demo identity has it: « S'identifier avec ProConnect ».
            email=DEMO_AGENT_EMAIL,
        )
        result.created.append(f"compte agent « {AGENT_USERNAME} »")
    elif not agent.email:
        agent.email = DEMO_AGENT_EMAIL
        agent.save(update_fields=["email"])
        result.created.append(f"adresse du compte agent « {AGENT_USERNAME} »")
    return agent


def _demarche(
    result: DemoResult,
    organisation: Organisation,
    connection: HubEEConnection,
    process_code: str,
) -> tuple[Demarche, Subscription]:
    rules = DEMARCHES[process_code]
    demarche = Demarche.objects.filter(organisation=organisation, process_code=process_code).first()
    cid = demarche.client_id if demarche is not None else client_id(process_code)
    subscription = Subscription.objects.filter(client_id=cid).first()
    if demarche is not None:
        secret = demarche.client_secret
    elif subscription is not None:
        secret = subscription.client_secret
    else:
        secret = secrets.token_urlsafe(24)
    if subscription is None:
        subscription = services.create_subscription(
            process_code,
            cid,
            secret,
            name=services.PROCESS_NAMES.get(process_code, process_code),
            si_siret=organisation.siret,
            si_branch_code=organisation.code_guichet,
            **{name: rules[name] for name in SUBSCRIPTION_RULES},
        )
        result.created.append(f"abonnement du bac à sable {process_code}")
    elif subscription.client_secret != secret:
        subscription.client_secret = secret
        subscription.save(update_fields=["client_secret", "updated_at"])
        result.created.append(f"secret de l'abonnement {process_code} réaligné")
    if demarche is None:
        demarche = Demarche(
            name=services.PROCESS_NAMES.get(process_code, process_code),
            process_code=process_code,
            organisation=organisation,
            connection=connection,
            client_id=cid,
            download_folder=str(download_folder(process_code)),
            allow_done=True,
            enabled=True,
            **rules,
        )
        demarche.client_secret = secret
        demarche.full_clean()
        demarche.save()
        result.created.append(f"démarche {process_code}")
    return demarche, subscription
