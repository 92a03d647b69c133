"""A dossier is released when its agent loses it by any path: the démarche's agents or the
agent's démarches changed (either side of the M2M, clear() included), the account deactivated
or deleted. Connected in DossiersConfig.ready."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save, pre_delete

from demarches.models import Demarche
from dossiers.records.assignment import release_lost

LOST_DEMARCHE = "L'agent n'est plus habilité sur cette démarche."
DEACTIVATED = "Le compte de l'agent a été désactivé."
DELETED = "Le compte de l'agent a été supprimé."
CLEARED = "_hubee_cleared"


def agents_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action == "pre_clear":
        # clear() tells no pk after the fact: remember who was there.
        if reverse:
            pks = set(instance.demarches.values_list("pk", flat=True))
        else:
            pks = set(instance.agents.values_list("pk", flat=True))
        setattr(instance, CLEARED, pks)
        return
    if action == "post_clear":
        pk_set = getattr(instance, CLEARED, set())
    elif action != "post_remove":
        return
    if not pk_set:
        return
    if reverse:  # instance is the user, pk_set their former démarches
        release_lost([instance.pk], pk_set, LOST_DEMARCHE)
    else:  # instance is the démarche, pk_set its former agents
        release_lost(pk_set, [instance.pk], LOST_DEMARCHE)


def user_saved(sender, instance, created, **kwargs) -> None:
    if not created and not instance.is_active:
        release_lost([instance.pk], None, DEACTIVATED)


def user_deleted(sender, instance, **kwargs) -> None:
    release_lost([instance.pk], None, DELETED)


def connect() -> None:
    user = get_user_model()
    m2m_changed.connect(
        agents_changed, sender=Demarche.agents.through, dispatch_uid="hubee-release-lost-demarche"
    )
    post_save.connect(user_saved, sender=user, dispatch_uid="hubee-release-deactivated")
    pre_delete.connect(user_deleted, sender=user, dispatch_uid="hubee-release-deleted")
