"""Who an agent is at ProConnect: the `sub` (and `idp_id`) seen at their first ProConnect
login, once their account was found by e-mail. Later logins match on it, never on the e-mail
again (demarches.proconnect.backend). An administrator deletes the link to let the agent
link another identity (another identity provider gives another `sub`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProConnectIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proconnect_identity",
        verbose_name="compte",
    )
    sub = models.CharField("identifiant ProConnect (sub)", max_length=255, editable=False)
    idp_id = models.CharField(
        "fournisseur d'identité (idp_id)", max_length=255, blank=True, editable=False
    )
    created_at = models.DateTimeField("relié le", auto_now_add=True)
    last_login_at = models.DateTimeField("dernière connexion", null=True, editable=False)

    class Meta:
        verbose_name = "identité ProConnect"
        verbose_name_plural = "identités ProConnect"
        constraints = [
            models.UniqueConstraint(
                fields=["sub", "idp_id"],
                name="proconnect_identity_unique_sub",
                violation_error_message="Cette identité ProConnect est déjà reliée à un compte.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.idp_id or 'ProConnect'})"
