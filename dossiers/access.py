"""Who sees what: admins see every dossier, an agent those of the démarches they are given.

Every agent page goes through these helpers; anything else answers 404, so that a dossier of
another démarche is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from demarches.models import Demarche
from dossiers.models import Dossier, OutgoingEvent, PieceJointe

User = AbstractBaseUser | AnonymousUser


def is_admin(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.is_staff))


def demarches_for(user: User) -> QuerySet[Demarche]:
    if not user.is_authenticated or not user.is_active:
        return Demarche.objects.none()
    if is_admin(user):
        return Demarche.objects.all()
    return Demarche.objects.filter(agents=user)


def dossiers_for(user: User) -> QuerySet[Dossier]:
    if not user.is_authenticated or not user.is_active:
        return Dossier.objects.none()
    # Purged dossiers (RGPD retention) are anonymous traces for statistics only.
    dossiers = Dossier.objects.filter(purged_at__isnull=True)
    if is_admin(user):
        return dossiers
    # A subquery, not a join: the list can then walk the (démarche, date) index in order.
    habilitations = Demarche.agents.through.objects.filter(user=user).values("demarche_id")
    return dossiers.filter(demarche_id__in=habilitations)


def get_dossier(user: User, pk: int) -> Dossier:
    return get_object_or_404(dossiers_for(user).select_related("demarche"), pk=pk)


def get_piece(user: User, dossier_pk: int, piece_pk: int) -> PieceJointe:
    piece = get_object_or_404(
        PieceJointe.objects.select_related("dossier__demarche"),
        pk=piece_pk,
        dossier_id=dossier_pk,
        dossier__in=dossiers_for(user),
    )
    return piece


def get_outgoing(user: User, dossier_pk: int, outgoing_pk: int) -> OutgoingEvent:
    return get_object_or_404(
        OutgoingEvent.objects.select_related("dossier__demarche"),
        pk=outgoing_pk,
        dossier_id=dossier_pk,
        dossier__in=dossiers_for(user),
    )


def require_demarche(user: User, pk: int) -> Demarche:
    demarche = demarches_for(user).filter(pk=pk).first()
    if demarche is None:
        raise Http404("Démarche introuvable.")
    return demarche


def client_ip(request: HttpRequest) -> str | None:
    """The client address for login throttling: behind the TLS proxy, the address the proxy
    saw (the last X-Forwarded-For entry, the only one it vouches for)."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")
