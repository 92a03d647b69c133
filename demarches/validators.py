from __future__ import annotations

import ipaddress
import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http.request import validate_host

SIRET_RE = re.compile(r"^\d{14}$")


def validate_siret(value: str) -> None:
    if not SIRET_RE.match(value or ""):
        raise ValidationError("Le SIRET doit comporter exactement 14 chiffres.", code="siret")


def write_probe_file(folder: Path) -> None:
    """Create, write and remove a file in `folder` (root passes every os.access check)."""
    probe = folder / f".hubee-portal-test-{uuid.uuid4().hex}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"ok")
        os.fsync(fd)
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


def validate_download_folder(value: str) -> None:
    """The folder must be absolute, creatable and writable: proven by writing a file."""
    if not value:
        raise ValidationError("Indiquez un dossier de téléchargement.", code="required")
    path = Path(value)
    if not path.is_absolute():
        raise ValidationError(
            "Le dossier de téléchargement doit être un chemin absolu (par exemple "
            "/srv/hubee/etat-civil), « %(value)s » ne l'est pas.",
            code="not_absolute",
            params={"value": value},
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(
            "Le dossier « %(value)s » ne peut pas être créé : %(reason)s.",
            code="cannot_create",
            params={"value": value, "reason": exc.strerror or exc},
        ) from exc
    try:
        write_probe_file(path)
    except OSError as exc:
        raise ValidationError(
            "Impossible d'écrire dans le dossier « %(value)s » : %(reason)s.",
            code="not_writable",
            params={"value": value, "reason": exc.strerror or exc},
        ) from exc


def hubee_url_problem(url: str, *, sandbox: bool | None = None) -> str | None:
    """Why a HubEE client secret may not be sent to `url` (a French reason), or None.

    https, to a host of settings.HUBEE_ALLOWED_HOSTS (HubEE's own by default; `.example.fr`
    matches its subdomains); while the sandbox is on (settings.HUBEE_SANDBOX unless `sandbox`
    says otherwise), http and the loopback (localhost, 127.0.0.0/8, ::1) too. Checked when a
    connection is saved, again before each use (the setting may have changed since), and by
    `check --deploy` with the sandbox's leniency off.
    """
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "Cette URL n'est pas valide."
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return (
            "Indiquez une URL complète, qui commence par https:// (par exemple "
            "https://api.hubee.numerique.gouv.fr)."
        )
    if parts.username is not None or parts.password is not None:
        return "L'URL ne doit contenir ni identifiant ni mot de passe."
    host = host.rstrip(".")
    if sandbox is None:
        sandbox = settings.HUBEE_SANDBOX
    if scheme != "https" and not sandbox:
        return "HubEE n'est joint qu'en https : l'URL doit commencer par https://."
    if _is_loopback(host):
        if sandbox:
            return None
        return (
            "Une adresse locale (localhost, 127.0.0.1, ::1) n'est acceptée que pour le bac à "
            "sable (HUBEE_SANDBOX), jamais en production."
        )
    if validate_host(host, settings.HUBEE_ALLOWED_HOSTS):
        return None
    return (
        f"« {host} » n'est pas un serveur autorisé : le secret client n'est envoyé qu'aux "
        "serveurs de HubEE, ou à ceux que nomme le réglage HUBEE_ALLOWED_HOSTS (à compléter par "
        "l'informaticien du serveur si la connexion passe par un autre nom)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
