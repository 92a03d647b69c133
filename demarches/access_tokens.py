"""HubEE access tokens kept in the database, encrypted like the client secrets, so that every
worker process and every machine of the installation reuses a démarche's token until it
expires (hubee_portal.hubee.tokens.TokenStore). Keyed by a digest of the token URL, the client
id and the secret: a changed secret never reuses the old token."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from demarches import crypto


class AccessToken(models.Model):
    key = models.CharField("clé", max_length=64, primary_key=True)
    token_encrypted = models.TextField("jeton (chiffré)")
    expires_at = models.DateTimeField("expire le")

    class Meta:
        verbose_name = "jeton d'accès HubEE"
        verbose_name_plural = "jetons d'accès HubEE"

    def __str__(self) -> str:
        return f"{self.key[:8]}… (expire le {self.expires_at:%d/%m/%Y %H:%M})"


def token_key(token_url: str, client_id: str, client_secret: str) -> str:
    # An HMAC, not a bare digest: the table never holds what could test a guessed secret.
    return salted_hmac(
        "hubee-access-token", f"{token_url}\n{client_id}\n{client_secret}", algorithm="sha256"
    ).hexdigest()


class DatabaseTokenStore:
    """The TokenStore of the portal. Worker threads call it: each closes its connection at the
    end of its unit (dossiers.exchange.fleet), as a thread's Django connection is its own."""

    def load(self, key: str) -> tuple[str, float] | None:
        row = AccessToken.objects.filter(key=key, expires_at__gt=timezone.now()).first()
        if row is None:
            return None
        try:
            token = crypto.decrypt(row.token_encrypted)
        except crypto.SecretDecryptionError:
            return None  # another key encrypted it: a new token is asked for
        return token, row.expires_at.timestamp()

    def save(self, key: str, token: str, expires_at: float) -> None:
        AccessToken.objects.update_or_create(
            key=key,
            defaults={
                "token_encrypted": crypto.encrypt(token),
                "expires_at": datetime.fromtimestamp(expires_at, UTC),
            },
        )

    def forget(self, key: str, token: str) -> None:
        for row in AccessToken.objects.filter(key=key):
            try:
                same = crypto.decrypt(row.token_encrypted) == token
            except crypto.SecretDecryptionError:
                same = True
            if same:
                row.delete()


def purge_expired() -> int:
    """Expired tokens are useless: removed (nightly)."""
    deleted, _ = AccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


STORE = DatabaseTokenStore()
