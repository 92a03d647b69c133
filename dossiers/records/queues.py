"""The work queues of the dossier list: three by HubEE status, the citizen's new messages,
who is in charge."""

from __future__ import annotations

from django.db import models
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from dossiers.enums import ActionType, Direction
from dossiers.models import Dossier, DossierView, Evenement
from hubee_portal.hubee.vocabulary import QUEUE_DONE, QUEUE_TODO, QUEUE_WAITING


class Queue(models.TextChoices):
    TODO = "a-traiter", "À traiter"
    WAITING = "en-attente", "En attente du demandeur"
    DONE = "traites", "Traités"


# The statuses of each queue are the vocabulary's; unknown statuses count as « à traiter ».
QUEUE_STATUSES: dict[str, frozenset[str]] = {
    Queue.TODO: QUEUE_TODO,
    Queue.WAITING: QUEUE_WAITING,
    Queue.DONE: QUEUE_DONE,
}
UNTREATED = QUEUE_TODO


def queue_q(queue: str) -> Q:
    return Q(status__in=QUEUE_STATUSES[queue])


def queue_of(status: str) -> str:
    for queue, statuses in QUEUE_STATUSES.items():
        if status in statuses:
            return queue
    return Queue.TODO


# What the citizen sends: a message, or documents added to the case (the alerts count the same).
CITIZEN_ACTIONS = (ActionType.SENDING_MESSAGE, ActionType.ATTACH_DEPOSIT)


def _citizen_events():
    return Evenement.objects.filter(direction=Direction.RECEIVED, action_type__in=CITIZEN_ACTIONS)


def new_citizen_message() -> Q:
    """A message or documents from the citizen the agent has not seen: arrived after their
    last view, or any when they never opened the dossier. Needs querysets.with_unread's
    `last_viewed_at` annotation."""
    after_view = _citizen_events().filter(
        dossier=OuterRef("pk"), created_at__gt=OuterRef("last_viewed_at")
    )
    never_viewed = _citizen_events().filter(dossier=OuterRef("pk"))
    return Q(Exists(after_view)) | (Q(last_viewed_at__isnull=True) & Q(Exists(never_viewed)))


def with_citizen_marks(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Annotate `citizen_new` (the list's « Nouveau message de l'usager » mark)."""
    return queryset.annotate(
        citizen_new=ExpressionWrapper(new_citizen_message(), output_field=BooleanField())
    )


def unseen_citizen_events(user) -> QuerySet[Evenement]:
    """The citizen's messages and documents this user has not seen: each event compared with
    the user's last view of its dossier (evenement_citizen_idx), no dossier tested row by row."""
    last_view = DossierView.objects.filter(dossier=OuterRef("dossier"), user=user).values(
        "viewed_at"
    )[:1]
    return (
        _citizen_events()
        .annotate(seen=Subquery(last_view))
        .filter(Q(seen__isnull=True) | Q(created_at__gt=F("seen")))
    )


def with_citizen_message(queryset: QuerySet[Dossier], user) -> QuerySet[Dossier]:
    """Only the dossiers with a citizen message this user has not seen."""
    return queryset.filter(pk__in=unseen_citizen_events(user).values("dossier_id"))


# « Attribué à » filter values besides an agent's id.
ASSIGNED_ME, ASSIGNED_NOBODY = "moi", "personne"


def assigned_q(value: str, user) -> Q:
    if value == ASSIGNED_ME:
        return Q(assigned_to=user)
    if value == ASSIGNED_NOBODY:
        # Through COALESCE: SQLite, without statistics, would otherwise pick the assigned_to
        # index and read most rows; this way the queue counts stay an index-only scan of
        # (démarche, status, purged_at, assigned_to) and the page walks the date index.
        return Q(Exact(Coalesce("assigned_to", Value(0)), 0))
    return Q(assigned_to_id=int(value))
