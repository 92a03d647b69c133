from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from django.core.exceptions import ValidationError

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
