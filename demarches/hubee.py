"""Builds the HubEE protocol client of a démarche (the only place models meet the client)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace

from django.conf import settings

from demarches.models import Demarche
from hubee_portal.hubee import AuthenticationError, HubEEClient, HubEEConfig, HubEEError

_clients: dict[int, tuple[str, HubEEClient]] = {}
_lock = threading.Lock()


def config_for(demarche: Demarche) -> HubEEConfig:
    connection = demarche.connection
    proxy = settings.HUBEE_PROXY
    return HubEEConfig(
        token_url=connection.token_url,
        api_url=connection.api_url,
        client_id=demarche.client_id,
        client_secret=demarche.client_secret,
        editor_name=connection.editor_name,
        application_name=connection.application_name,
        software_version=connection.software_version,
        retries=connection.http_retries,
        connect_timeout=settings.HUBEE_CONNECT_TIMEOUT,
        read_timeout=settings.HUBEE_READ_TIMEOUT,
        proxies={"http": proxy, "https": proxy} if proxy else None,
        ca_bundle=settings.HUBEE_CA_BUNDLE or None,
    )


def client_for(demarche: Demarche) -> HubEEClient:
    """One client per démarche and process: its session (keep-alive) and token are reused
    from one run to the next, and renewed when the configuration changes."""
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
        if cached:
            cached[1].close()
        client = HubEEClient(config_for(demarche))
        _clients[demarche.pk] = (fingerprint, client)
        return client


def forget_clients() -> None:
    with _lock:
        for _, client in _clients.values():
            client.close()
        _clients.clear()


def explain_connection_error(exc: Exception) -> str:
    """A French explanation of a failed connection, for the administrator."""
    detail = str(exc)
    if isinstance(exc, AuthenticationError):
        return (
            "Identifiants refusés par HubEE : vérifiez l'identifiant et le secret client copiés "
            "depuis le portail HubEE (Gestion des abonnements → démarche → mode d'accès API)."
        )
    checks = [
        (
            "certificate",
            "Le certificat TLS de HubEE n'est pas reconnu : vérifiez HUBEE_CA_BUNDLE "
            "ou le proxy d'inspection TLS de votre réseau.",
        ),
        (
            "ProxyError",
            "Le proxy refuse la connexion ou ne répond pas : vérifiez HUBEE_PROXY "
            "(ou HTTPS_PROXY).",
        ),
        (
            "NameResolution",
            "Nom de serveur introuvable (DNS) : vérifiez l'URL et la résolution "
            "de noms du serveur.",
        ),
        (
            "Name or service not known",
            "Nom de serveur introuvable (DNS) : vérifiez l'URL et la "
            "résolution de noms du serveur.",
        ),
        ("Timeout", "HubEE ne répond pas dans le délai : pare-feu, proxy ou service indisponible."),
        ("Connection refused", "Connexion refusée par le serveur : vérifiez l'URL et le port."),
    ]
    for needle, message in checks:
        if needle.lower() in detail.lower():
            return f"{message} (détail : {detail})"
    if isinstance(exc, HubEEError) and exc.status_code and exc.status_code >= 500:
        return f"HubEE est en erreur (HTTP {exc.status_code}) : réessayez plus tard. ({detail})"
    return f"Échec de la connexion à HubEE : {detail}"


def check_connection(demarche: Demarche) -> tuple[bool, str]:
    """Request a token with the démarche's credentials (a fresh client, not the cached one)."""
    try:
        # One retry only: an administrator is waiting for the answer.
        with HubEEClient(replace(config_for(demarche), retries=1)) as client:
            client.check_credentials()
    except (HubEEError, ValueError) as exc:
        return False, explain_connection_error(exc)
    return True, "Connexion réussie : HubEE a délivré un jeton pour ces identifiants."
