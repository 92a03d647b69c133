"""Keys: generated once into the data folder so a development install needs no .env, and the
encryption keys checked when settings load (a bad one must stop the start, not the first sync)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

GENERATE_ENCRYPTION_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def load_or_create(path: Path, generate: Callable[[], str]) -> str:
    """Return the key stored at `path`, creating it (mode 600) on first use."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    # O_EXCL: two processes starting together must end up with the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_encryption_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _ordinal(position: int) -> str:
    return "1re" if position == 1 else f"{position}e"


def encryption_keys(value: str, origin: str = "ENCRYPTION_KEY") -> list[str]:
    """The comma-separated Fernet keys of `value`, each one checked.

    Messages name a bad key by its position, never by its text (it is a secret).
    """
    found = [key.strip() for key in value.split(",") if key.strip()]
    if not found:
        raise ImproperlyConfigured(
            f"{origin} ne contient aucune clé : indiquez une clé Fernet (ou plusieurs, séparées "
            f"par des virgules, la nouvelle en premier). Générez-en une avec : "
            f"{GENERATE_ENCRYPTION_KEY}"
        )
    for position, key in enumerate(found, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # `from None`: the decoder's error could quote part of the key.
            which = origin if len(found) == 1 else f"La {_ordinal(position)} clé de {origin}"
            raise ImproperlyConfigured(
                f"{which} n'est pas une clé Fernet valide (32 octets encodés en base64 "
                f"url-safe, 44 caractères). Générez-en une avec : {GENERATE_ENCRYPTION_KEY}"
            ) from None
    return found


def derived(secret: str, purpose: str) -> str:
    """A development credential derived from `secret`: stable, and nowhere in the code."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
