"""The three work queues of the dossier list, by HubEE status."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

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
