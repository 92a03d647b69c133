"""Builds the HubEE protocol client of a démarche (the only place models meet the client)."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import replace
from http.cookiejar import DefaultCookiePolicy

import requests
from django.conf import settings

from demarches import access_tokens, crypto
from demarches.models import Demarche
from hubee_portal.hubee import HubEEClient, HubEEConfig, HubEEError, PermanentError, Reason
from hubee_portal.hubee.transport import new_session

logger = logging.getLogger(__name__)

_clients: dict[int, tuple[str, HubEEClient]] = {}
_sessions: dict[int, tuple[str, requests.Session]] = {}
_lock = threading.Lock()


class ConfigurationError(PermanentError):
    """The démarche cannot call HubEE as configured: no request was sent. The message is
    French, for the pages (the admin's connection test, the sync journal)."""


class DestinationRefusedError(ConfigurationError):
    """A URL of the connection breaks the policy (demarches.validators.hubee_url_problem)."""


def config_for(demarche: Demarche) -> HubEEConfig:
    """The client configuration; raises ConfigurationError before any request when a URL of
    the connection is not (or no longer) allowed, or the secret is missing or unreadable."""
    connection = demarche.connection
    problems = connection.destination_problems()
    if problems:
        _, label, _, problem = problems[0]
        raise DestinationRefusedError(
            f"{label} de la connexion « {connection} » refusée, rien n'a été envoyé : "
            f"{problem} Un superutilisateur doit la corriger dans l'administration."
        )
    if not demarche.client_secret_encrypted:
        raise ConfigurationError(
            f"Le secret client de la démarche « {demarche} » n'est pas enregistré, rien n'a été "
            "envoyé : saisissez-le dans sa fiche, puis lancez l'action « Tester la connexion "
            "(et activer si elle réussit) »."
        )
    try:
        client_secret = demarche.client_secret
    except crypto.SecretDecryptionError as exc:
        raise ConfigurationError(str(exc)) from exc
    proxy = settings.HUBEE_PROXY
    return HubEEConfig(
        token_url=connection.token_url,
        api_url=connection.api_url,
        client_id=demarche.client_id,
        client_secret=client_secret,
        editor_name=connection.editor_name,
        application_name=connection.application_name,
        software_version=connection.software_version,
        retries=connection.http_retries,
        connect_timeout=settings.HUBEE_CONNECT_TIMEOUT,
        read_timeout=settings.HUBEE_READ_TIMEOUT,
        proxies={"http": proxy, "https": proxy} if proxy else None,
        ca_bundle=settings.HUBEE_CA_BUNDLE or None,
        max_json_bytes=settings.HUBEE_MAX_JSON_BYTES,
        max_file_bytes=settings.HUBEE_MAX_FILE_BYTES,
    )


def client_for(demarche: Demarche) -> HubEEClient:
    """One client per démarche and process: its token is reused from one run to the next (and
    by the other processes, through the token store), and renewed when the configuration
    changes. The démarches of one connection share its HTTP session: one pool of kept-alive
    connections to HubEE per process, not one per démarche."""
    fingerprint = hashlib.sha256(
        "|".join(
            [
                demarche.client_id,
                demarche.client_secret_encrypted,
                str(demarche.connection_id),
                str(demarche.connection.updated_at),
            ]
        ).encode()
    ).hexdigest()
    with _lock:
        cached = _clients.get(demarche.pk)
        if cached and cached[0] == fingerprint:
            return cached[1]
        config = config_for(demarche)
        client = HubEEClient(
            config,
            session=_session_for(demarche, config),
            token_store=access_tokens.STORE,
            token_key=access_tokens.token_key(
                config.token_url, config.client_id, config.client_secret
            ),
        )
        _clients[demarche.pk] = (fingerprint, client)
        return client


def _session_for(demarche: Demarche, config: HubEEConfig) -> requests.Session:
    """The connection's session in this process (caller holds _lock), new when the connection
    or the outgoing settings changed."""
    key = "|".join(
        [
            str(demarche.connection_id),
            str(demarche.connection.updated_at),
            repr(config.proxies),
            str(config.ca_bundle),
        ]
    )
    cached = _sessions.get(demarche.connection_id)
    if cached and cached[0] == key:
        return cached[1]
    # The replaced session is left to the garbage collector: a client of another démarche may
    # still be using it until its own configuration is read again.
    session = new_session(config)
    # Shared by several subscriptions: no cookie carried from one to another.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    _sessions[demarche.connection_id] = (key, session)
    return session


def forget_clients() -> None:
    with _lock:
        _clients.clear()
        for _, session in _sessions.values():
            session.close()
        _sessions.clear()


UNKNOWN_FAILURE = "Échec de la connexion à HubEE : le détail est dans le journal du serveur."


def explain_connection_error(exc: Exception) -> str:
    """A French explanation of a failed connection, for the administrator's page.

    Chosen from the error's `reason` and status code only: the remote body and the exception
    text (socket errors, host and port) never reach the page, so the connection test is no
    window on another server; and name, refused, timeout and proxy failures share one sentence,
    so it is no port scanner either. The detail goes to the log.
    """
    if isinstance(exc, ConfigurationError):
        return exc.summary  # our own text, no remote content
    if not isinstance(exc, HubEEError):
        return UNKNOWN_FAILURE
    status = exc.status_code
    match exc.reason:
        case Reason.CREDENTIALS:
            return (
                "Identifiants refusés par HubEE : vérifiez l'identifiant et le secret client "
                "copiés depuis le portail HubEE (Gestion des abonnements → démarche → mode "
                "d'accès API)."
            )
        case Reason.REDIRECT:
            return (
                f"Le serveur a répondu par une redirection (HTTP {status}), que le portail ne "
                "suit pas : vérifiez l'URL du jeton et l'URL de l'API de la connexion (celles de "
                "HubEE, en https)."
            )
        case Reason.TLS:
            return (
                "Le certificat TLS du serveur n'est pas reconnu : vérifiez HUBEE_CA_BUNDLE ou le "
                "proxy d'inspection TLS de votre réseau."
            )
        case Reason.DNS | Reason.REFUSED | Reason.TIMEOUT | Reason.PROXY | Reason.NETWORK:
            proxy = " et le proxy sortant (HUBEE_PROXY)" if settings.HUBEE_PROXY else ""
            return (
                "HubEE est injoignable (nom introuvable, connexion refusée ou délai dépassé) : "
                f"vérifiez l'URL, la résolution de noms, le pare-feu{proxy} ; le détail est dans "
                "le journal du serveur."
            )
        case Reason.THROTTLED:
            return "HubEE limite les appels (HTTP 429) : réessayez dans quelques minutes."
        case Reason.SERVER:
            return f"HubEE est en erreur (HTTP {status}) : réessayez plus tard."
        case Reason.NO_TOKEN:
            return (
                "Le serveur a répondu sans jeton d'accès : vérifiez que l'URL du jeton est bien "
                "celle de HubEE."
            )
        case Reason.FORBIDDEN | Reason.NOT_FOUND | Reason.BAD_REQUEST | Reason.HTTP_ERROR:
            return (
                f"Le serveur a refusé la demande de jeton (HTTP {status}) : vérifiez l'URL du "
                "jeton et l'abonnement de la démarche sur le portail HubEE."
            )
    return UNKNOWN_FAILURE


def check_connection(demarche: Demarche) -> tuple[bool, str]:
    """Request a token with the démarche's credentials (a fresh client, not the cached one)."""
    try:
        # One retry only: an administrator is waiting for the answer.
        with HubEEClient(replace(config_for(demarche), retries=1)) as client:
            client.check_credentials()
    except (HubEEError, ValueError) as exc:
        # The detail (remote body, socket error) is for the IT person, not for the page.
        logger.warning("Connection test of démarche %s failed: %s", demarche.pk, exc)
        return False, explain_connection_error(exc)
    return True, "Connexion réussie : HubEE a délivré un jeton pour ces identifiants."
