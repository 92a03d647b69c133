"""Encryption at rest of HubEE client secrets (Fernet, keys from settings.ENCRYPTION_KEYS)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """The stored secret cannot be decrypted with the configured keys."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEY n'est pas une clé Fernet valide (32 octets en base64 url-safe). "
            f"Générez-en une avec : {keys.GENERATE_ENCRYPTION_KEY}"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "Le secret enregistré ne peut pas être déchiffré : la clé de chiffrement "
            "(ENCRYPTION_KEY) n'est pas celle qui l'a chiffré. Restaurez la clé sauvegardée "
            "avec la base de données, ou saisissez à nouveau le secret."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt with the first key (after a key was added in front)."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")
