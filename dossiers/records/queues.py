"""The three work queues of the dossier list, by HubEE status."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from demarches.enums import CaseStatus


class Queue(models.TextChoices):
    TODO = "a-traiter", "À traiter"
    WAITING = "en-attente", "En attente du demandeur"
    DONE = "traites", "Traités"


QUEUE_STATUSES: dict[str, frozenset[str]] = {
    Queue.TODO: frozenset(
        {
            CaseStatus.HUBEE_RECEIVED,
            CaseStatus.HUBEE_COMPLETED,
            CaseStatus.HUBEE_NOTIFIED,
            CaseStatus.SENT,
            CaseStatus.SI_RECEIVED,
            CaseStatus.IN_PROGRESS,
        }
    ),
    Queue.WAITING: frozenset({CaseStatus.ADD_AWAITING}),
    # SI_INTG_ERROR: the operator re-sends the case, nothing left to do on this one.
    Queue.DONE: frozenset(
        {
            CaseStatus.DONE,
            CaseStatus.REFUSED,
            CaseStatus.CLOSED,
            CaseStatus.ARCHIVED,
            CaseStatus.SI_INTG_ERROR,
        }
    ),
}
UNTREATED = QUEUE_STATUSES[Queue.TODO]


def queue_q(queue: str) -> Q:
    return Q(status__in=QUEUE_STATUSES[queue])


def queue_of(status: str) -> str:
    for queue, statuses in QUEUE_STATUSES.items():
        if status in statuses:
            return queue
    return Queue.TODO
