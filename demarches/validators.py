from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http.request import validate_host

from hubee_portal import file_modes

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


# False inside no_writes(): a dry run checks the download folder without creating anything.
writes_allowed: ContextVar[bool] = ContextVar("writes_allowed", default=True)


@contextlib.contextmanager
def no_writes() -> Iterator[None]:
    token = writes_allowed.set(False)
    try:
        yield
    finally:
        writes_allowed.reset(token)


def nearest_existing(path: Path) -> Path:
    """`path` itself or its closest ancestor that exists (what mkdir would start from)."""
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return Path(path.anchor)


def validate_download_folder(value: str) -> None:
    """The folder must be absolute, creatable and writable: proven by writing a file, or,
    inside no_writes(), checked without writing anything."""
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
    if not writes_allowed.get():
        _check_without_writing(path, value)
        return
    try:
        file_modes.ensure_dir(path)  # with HUBEE_DIR_MODE, as the files' folders
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


def _check_without_writing(path: Path, value: str) -> None:
    """What mkdir and the probe file would meet, read from the file system only (root passes
    os.access, so a read-only mount is checked apart)."""
    base = nearest_existing(path)
    if not base.is_dir():
        raise ValidationError(
            "Le dossier « %(value)s » ne peut pas être créé : %(reason)s.",
            code="cannot_create",
            params={"value": value, "reason": f"« {base} » n'est pas un dossier"},
        )
    reason = None
    if not os.access(base, os.W_OK | os.X_OK):
        reason = "Permission non accordée"
    elif os.statvfs(base).f_flag & os.ST_RDONLY:
        reason = "Système de fichiers accessible en lecture seulement"
    if reason is None:
        return
    if base == path:
        raise ValidationError(
            "Impossible d'écrire dans le dossier « %(value)s » : %(reason)s.",
            code="not_writable",
            params={"value": value, "reason": reason},
        )
    raise ValidationError(
        "Le dossier « %(value)s » ne peut pas être créé : %(reason)s.",
        code="cannot_create",
        params={"value": value, "reason": f"{reason} sur « {base} »"},
    )


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
