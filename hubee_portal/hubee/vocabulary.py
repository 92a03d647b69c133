"""HubEE's vocabulary (API.md §4 and §6), written once: values, French labels, status order and
the status sets the portal acts on, each named by its use.

No Django here: `hubee_portal/choices.py` derives the models' `TextChoices` from these enums.
Members compare equal to their plain string value ("DONE" == CaseStatus.DONE).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class LabelledEnum(StrEnum):
    """A HubEE value with one French label (the portal's wording)."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)][self]


class CaseStatus(LabelledEnum):
    HUBEE_RECEIVED = "HUBEE_RECEIVED"
    HUBEE_COMPLETED = "HUBEE_COMPLETED"
    HUBEE_NOTIFIED = "HUBEE_NOTIFIED"
    SENT = "SENT"
    SI_RECEIVED = "SI_RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    ADD_AWAITING = "ADD_AWAITING"
    REFUSED = "REFUSED"
    DONE = "DONE"
    CLOSED = "CLOSED"
    SI_INTG_ERROR = "SI_INTG_ERROR"
    ARCHIVED = "ARCHIVED"


class EventStatus(LabelledEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SENT = "SENT"
    RECEIVED = "RECEIVED"


class AttachmentStatus(LabelledEnum):
    PENDING = "PENDING"
    RECEIVED = "RECEIVED"
    CORRUPTED = "CORRUPTED"
    REJECTED = "REJECTED"
    DELETED = "DELETED"  # API.md §4.4: the file was purged


class ActionType(LabelledEnum):
    STATUS_UPDATE = "STATUS_UPDATE"
    ATTACH_DEPOSIT = "ATTACH_DEPOSIT"
    SENDING_MESSAGE = "SENDING_MESSAGE"
    ATTACH_DL = "ATTACH_DL"
    ATTACH_DL_ALL = "ATTACH_DL_ALL"
    COM_ADD = "COM_ADD"


# One dict per enum: members of two enums may share a value ("SENT"), hence a hash.
_LABELS: Mapping[type[LabelledEnum], Mapping[str, str]] = {
    CaseStatus: {
        CaseStatus.HUBEE_RECEIVED: "Reçu par le HubEE",
        CaseStatus.HUBEE_COMPLETED: "Complété",
        CaseStatus.HUBEE_NOTIFIED: "Nouveau",
        CaseStatus.SENT: "Transmis",
        CaseStatus.SI_RECEIVED: "Reçu",
        CaseStatus.IN_PROGRESS: "En cours",
        CaseStatus.ADD_AWAITING: "En attente de compléments",
        CaseStatus.REFUSED: "Refusé",
        CaseStatus.DONE: "Traité",
        CaseStatus.CLOSED: "Clos",
        CaseStatus.SI_INTG_ERROR: "Erreur d'intégration",
        CaseStatus.ARCHIVED: "Archivé",
    },
    EventStatus: {
        EventStatus.IN_PROGRESS: "En cours de dépôt",
        EventStatus.SENT: "Envoyé",
        EventStatus.RECEIVED: "Accusé de réception",
    },
    AttachmentStatus: {
        AttachmentStatus.PENDING: "En attente du fichier",
        AttachmentStatus.RECEIVED: "Reçu",
        AttachmentStatus.CORRUPTED: "Corrompu (antivirus)",
        AttachmentStatus.REJECTED: "Rejeté",
        AttachmentStatus.DELETED: "Supprimé (purge)",
    },
    ActionType: {
        ActionType.STATUS_UPDATE: "Changement de statut",
        ActionType.ATTACH_DEPOSIT: "Dépôt de pièces",
        ActionType.SENDING_MESSAGE: "Message",
        ActionType.ATTACH_DL: "Téléchargement d'une pièce",
        ActionType.ATTACH_DL_ALL: "Téléchargement de toutes les pièces",
        ActionType.COM_ADD: "Commentaire interne",
    },
}


def label_of(value: str, enum: type[LabelledEnum] = CaseStatus) -> str:
    """The French label of a value of `enum`; the value itself when HubEE sent an unknown one."""
    try:
        return enum(value).label
    except ValueError:
        return value


# API.md §6.2: a case's status only moves forward. CLOSED and ARCHIVED are HubEE's, not ranked.
# Typed by str: lookups take the raw value read from HubEE, which may be unknown.
STATUS_RANK: Mapping[str, int] = MappingProxyType(
    {
        CaseStatus.HUBEE_RECEIVED: 0,
        CaseStatus.HUBEE_COMPLETED: 1,
        CaseStatus.HUBEE_NOTIFIED: 2,
        CaseStatus.SENT: 3,
        CaseStatus.SI_RECEIVED: 4,
        CaseStatus.IN_PROGRESS: 5,
        CaseStatus.ADD_AWAITING: 6,
        CaseStatus.REFUSED: 7,
        CaseStatus.DONE: 7,
    }
)

# Once a case is here, the portal pushes no status to HubEE any more.
NO_FURTHER_PUSH = frozenset(
    {CaseStatus.DONE, CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.ARCHIVED}
)
# Reaching one of these starts the retention period of the dossier (RGPD purge).
RETENTION_START = frozenset({CaseStatus.DONE, CaseStatus.REFUSED, CaseStatus.CLOSED})
# No agent action on a case in these statuses.
LOCKED = frozenset({CaseStatus.CLOSED, CaseStatus.ARCHIVED})
# The démarche's automatic first status (official `statusMinimal`) and final status choices.
FIRST_PUSH = frozenset({CaseStatus.SENT, CaseStatus.SI_RECEIVED, CaseStatus.IN_PROGRESS})
SI_FINAL = frozenset({CaseStatus.DONE, CaseStatus.REFUSED})
# An attachment in these statuses will never be downloadable.
UNAVAILABLE_FILE = frozenset(
    {AttachmentStatus.CORRUPTED, AttachmentStatus.REJECTED, AttachmentStatus.DELETED}
)

# The agents' three work queues. Unknown statuses count as « à traiter ».
QUEUE_TODO = frozenset(
    {
        CaseStatus.HUBEE_RECEIVED,
        CaseStatus.HUBEE_COMPLETED,
        CaseStatus.HUBEE_NOTIFIED,
        CaseStatus.SENT,
        CaseStatus.SI_RECEIVED,
        CaseStatus.IN_PROGRESS,
    }
)
QUEUE_WAITING = frozenset({CaseStatus.ADD_AWAITING})
# SI_INTG_ERROR: the operator re-sends the case, nothing left to do on this one.
QUEUE_DONE = frozenset(
    {
        CaseStatus.DONE,
        CaseStatus.REFUSED,
        CaseStatus.CLOSED,
        CaseStatus.ARCHIVED,
        CaseStatus.SI_INTG_ERROR,
    }
)


def moves_forward(current: str, new: str) -> bool:
    """Whether pushing `new` on a case in `current` moves it forward (never back, never after
    a status of NO_FURTHER_PUSH, never to an unranked status)."""
    if current in NO_FURTHER_PUSH or new not in STATUS_RANK:
        return False
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)
