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
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from dossiers.enums import CITIZEN_ACTIONS  # noqa: F401  (re-exported)
from dossiers.models import Dossier, DossierView, received
from hubee_portal.hubee.vocabulary import QUEUE_DONE, QUEUE_TODO, QUEUE_WAITING


class Queue(models.TextChoices):
    TODO = received.TODO, "À traiter"
    WAITING = received.WAITING, "En attente du demandeur"
    DONE = received.DONE, "Traités"


# The statuses of each queue are the vocabulary's; unknown statuses count as « à traiter ».
QUEUE_STATUSES: dict[str, frozenset[str]] = {
    Queue.TODO: QUEUE_TODO,
    Queue.WAITING: QUEUE_WAITING,
    Queue.DONE: QUEUE_DONE,
}
UNTREATED = QUEUE_TODO


def queue_q(queue: str) -> Q:
    # Dossier.queue, computed from the status by the database: one index in the list's order.
    return Q(queue=queue)


def queue_of(status: str) -> str:
    for queue, statuses in QUEUE_STATUSES.items():
        if status in statuses:
            return queue
    return Queue.TODO


def new_citizen_message() -> Q:
    """A message or documents from the citizen the agent has not seen: arrived after their
    last view, or any when they never opened the dossier. Needs querysets.with_unread's
    `last_viewed_at` annotation."""
    return Q(last_citizen_at__isnull=False) & (
        Q(last_viewed_at__isnull=True) | Q(last_citizen_at__gt=F("last_viewed_at"))
    )


def with_citizen_marks(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Annotate `citizen_new` (the list's « Nouveau message de l'usager » mark)."""
    return queryset.annotate(
        citizen_new=ExpressionWrapper(new_citizen_message(), output_field=BooleanField())
    )


def unseen_by(user) -> Q:
    """The dossiers with a citizen message this user has not seen, without the `last_viewed_at`
    annotation: the few dossiers the citizen wrote on, each compared with the user's view of it."""
    seen = DossierView.objects.filter(
        dossier=OuterRef("pk"), user=user, viewed_at__gte=OuterRef("last_citizen_at")
    )
    return Q(last_citizen_at__isnull=False) & ~Q(Exists(seen))


def with_citizen_message(queryset: QuerySet[Dossier], user) -> QuerySet[Dossier]:
    """Only the dossiers with a citizen message this user has not seen. As `pk IN (…)`:
    SQLite, without statistics, would otherwise walk the démarches' dossiers rather than
    dossier_citizen_idx."""
    unseen = Dossier.objects.filter(unseen_by(user)).order_by().values("pk")
    return queryset.filter(pk__in=unseen)


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
