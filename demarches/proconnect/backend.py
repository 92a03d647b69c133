"""The ProConnect authentication backend: mozilla-django-oidc's, with our checks.

Tokens: the ID token and the signed userinfo are verified against ProConnect's JWKS (RS256,
pinned), with their audience (our client id), issuer and expiry; the ID token's nonce by the
library. Who gets in: only an account an administrator created or invited —
- the SIRET must be one of the portal's organisations' or of PROCONNECT_EXTRA_SIRETS;
- an identity seen before is found by its `sub` (and `idp_id`);
- a first login by the e-mail, case-insensitively, only if one active account has it; the
  identity is then stored (demarches.identities);
- names are taken from the claims at each login; an inactive account is refused.
A refusal sets `request.proconnect_refusal` (demarches.proconnect.refusals) for the callback view.
"""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from demarches.identities import ProConnectIdentity
from demarches.models import Organisation
from demarches.proconnect import config, refusals
from demarches.proconnect.refusals import Refused

logger = logging.getLogger("demarches.proconnect")

LEEWAY_SECONDS = 60  # clocks of two servers


def allowed_sirets() -> set[str]:
    own = Organisation.objects.exclude(siret="").values_list("siret", flat=True)
    return set(own) | set(settings.PROCONNECT_EXTRA_SIRETS)


class ProConnectBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        if request is None or not config.enabled() or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except Refused as refused:
            logger.warning("Connexion ProConnect refusée (%s) : %s", refused.reason.slug, refused)
            request.proconnect_refusal = refused.reason
        except requests.RequestException as exc:
            logger.warning("Connexion ProConnect : échange avec ProConnect en échec : %s", exc)
            request.proconnect_refusal = refusals.PROVIDER
        except (SuspiciousOperation, jwt.InvalidTokenError, KeyError, ValueError) as exc:
            logger.warning("Connexion ProConnect refusée, jeton invalide : %s", exc)
            request.proconnect_refusal = refusals.INVALID
        return None

    def _verify_jws(self, payload, key):
        """Signature with the pinned algorithm, and audience, issuer and expiry (the library
        checks neither audience nor issuer)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"algorithme {header.get('alg')!r} refusé")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.PROCONNECT_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"jeton refusé : {exc}") from exc

    def get_or_create_user(self, access_token, id_token, payload):
        # The ID token's claims (acr, amr) are read by the callback view after login.
        self.request.proconnect_id_claims = payload
        try:
            claims = self.get_userinfo(access_token, id_token, payload)
        except SuspiciousOperation as exc:  # the library would swallow it: a refusal
            raise Refused(refusals.INVALID, f"userinfo : {exc}") from exc
        if claims.get("sub") != payload.get("sub"):
            raise Refused(refusals.INVALID, "le sub de userinfo n'est pas celui du jeton")
        email = (claims.get("email") or "").strip()
        siret = (claims.get("siret") or "").replace(" ", "")
        if not email:
            raise Refused(refusals.INVALID, "userinfo sans adresse électronique")
        if siret not in allowed_sirets():
            raise Refused(refusals.SIRET, f"SIRET {siret or '(aucun)'} de {email}")
        with transaction.atomic():
            user = self._find(claims, email)
            self.update_user(user, claims)
        return user

    def _find(self, claims: dict, email: str):
        sub = claims["sub"]
        idp_id = claims.get("idp_id", "") if settings.PROCONNECT_SCOPE_IDP_ID else ""
        identity = (
            ProConnectIdentity.objects.select_related("user")
            .select_for_update()
            .filter(sub=sub, idp_id=idp_id)
            .first()
        )
        if identity is not None:
            if not identity.user.is_active:
                raise Refused(refusals.INACTIVE, f"compte {identity.user.pk} désactivé")
            identity.last_login_at = timezone.now()
            identity.save(update_fields=["last_login_at"])
            return identity.user
        user = self._by_email(email)
        if ProConnectIdentity.objects.filter(user=user).exists():
            raise Refused(
                refusals.OTHER_IDENTITY, f"compte {user.pk} déjà relié, nouveau sub {idp_id}"
            )
        ProConnectIdentity.objects.create(
            user=user, sub=sub, idp_id=idp_id, last_login_at=timezone.now()
        )
        logger.info("Identité ProConnect reliée au compte %s (idp_id %s)", user.pk, idp_id)
        return user

    def _by_email(self, email: str):
        User = get_user_model()
        field = User.get_email_field_name()
        found = [
            user
            for user in User.objects.filter(**{f"{field}__iexact": email})
            # iexact is ASCII-only on SQLite: the same comparison everywhere.
            if getattr(user, field).casefold() == email.casefold()
        ]
        active = [user for user in found if user.is_active]
        if len(active) > 1:
            raise Refused(refusals.DUPLICATE, f"{len(active)} comptes actifs pour {email}")
        if active:
            return active[0]
        if found:
            raise Refused(refusals.INACTIVE, f"seuls des comptes désactivés pour {email}")
        raise Refused(refusals.UNKNOWN, f"aucun compte pour {email}")

    def update_user(self, user, claims):
        names = {
            "first_name": (claims.get("given_name") or "")[:150],
            "last_name": (claims.get("usual_name") or "")[:150],
        }
        changed = [name for name, value in names.items() if value and getattr(user, name) != value]
        for name in changed:
            setattr(user, name, names[name])
        if changed:
            user.save(update_fields=changed)
        return user

    def get_user(self, user_id):
        # The library's returns inactive users too: Django's rule instead.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
