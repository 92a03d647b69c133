"""Who sees which dossiers.

- An *agent* sees the dossiers of the démarches they are habilitated on (Demarche.agents).
- An *administrateur technique* (is_staff) configures the portal in the admin and, like anyone,
  sees only the dossiers of the démarches they are habilitated on.
- A supervisor holding « Voir tous les dossiers » (dossiers.view_all_dossiers, directly or
  through a group, staff or not) and an active superuser see every dossier.

Every agent page, and the admin's pages of received data, go through these helpers; anything
else answers 404, so that a dossier of another démarche is indistinguishable from one that does
not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Permission
from django.db.models import Count, Exists, Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from demarches.models import Demarche
from dossiers.models import Dossier, OutgoingEvent, PieceJointe

User = AbstractBaseUser | AnonymousUser

VIEW_ALL_DOSSIERS = "dossiers.view_all_dossiers"


def is_technical_admin(user: User) -> bool:
    """An administrateur technique: opens the admin, and sees no dossier for that."""
    return bool(user.is_active and user.is_staff)


def view_all_permission() -> QuerySet[Permission]:
    app_label, codename = VIEW_ALL_DOSSIERS.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)


def _holds_view_all(user: User) -> QuerySet[Permission]:
    """The permission, if this user holds it directly or through a group (ModelBackend's rule)."""
    return view_all_permission().filter(Q(user=user) | Q(group__user=user))


def sees_all_dossiers(user: User) -> bool:
    """An active superuser, or an active holder of « Voir tous les dossiers »."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or _holds_view_all(user).exists()


def technical_admins_without_view_all() -> QuerySet:
    """Active administrateurs techniques, not superusers, without « Voir tous les dossiers »:
    they see only the démarches they are habilitated on (`habilitations`, how many)."""
    model = get_user_model()
    permission = view_all_permission()
    holders = model.objects.filter(
        Q(user_permissions__in=permission) | Q(groups__permissions__in=permission)
    )
    return (
        model.objects.filter(is_active=True, is_staff=True, is_superuser=False)
        .exclude(pk__in=holders.values("pk"))
        .annotate(habilitations=Count("demarches"))
        .order_by(model.USERNAME_FIELD)
    )


def demarches_for(user: User) -> QuerySet[Demarche]:
    if not user.is_authenticated or not user.is_active:
        return Demarche.objects.none()
    if user.is_superuser:
        return Demarche.objects.all()
    habilitations = Demarche.agents.through.objects.filter(user=user).values("demarche_id")
    # The permission is read inside the same query: no page pays a query more for it.
    return Demarche.objects.filter(Q(pk__in=habilitations) | Exists(_holds_view_all(user)))


def dossiers_for(user: User) -> QuerySet[Dossier]:
    if not user.is_authenticated or not user.is_active:
        return Dossier.objects.none()
    # Purged dossiers (RGPD retention) are anonymous traces for statistics only.
    dossiers = Dossier.objects.filter(purged_at__isnull=True)
    if user.is_superuser:
        return dossiers
    # A subquery, not a join: the list can then walk the (démarche, date) index in order.
    return dossiers.filter(demarche_id__in=demarches_for(user).values("pk"))


def in_demarches_of(user: User, queryset: QuerySet, path: str) -> QuerySet:
    """The admin's received data: rows whose démarche (reached by `path`) the user sees."""
    if sees_all_dossiers(user):
        return queryset
    return queryset.filter(**{f"{path}__in": demarches_for(user).values("pk")})


def get_dossier(user: User, pk: int) -> Dossier:
    return get_object_or_404(dossiers_for(user).select_related("demarche", "assigned_to"), pk=pk)


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
    """The client address for login throttling. Behind the TLS proxy, the X-Forwarded-For entry
    TRUSTED_PROXY_COUNT hops from the right: each trusted proxy appends the address it saw, so
    anything further left is the client's own say. 0, no proxy, or a header shorter than the
    proxy chain: REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT if settings.BEHIND_TLS_PROXY else 0
    if count > 0:
        entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(entries) >= count and entries[-count]:
            return entries[-count]
    return request.META.get("REMOTE_ADDR")
