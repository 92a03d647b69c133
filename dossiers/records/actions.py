"""What an agent may do on a dossier, per démarche rules (API.md §6).

Doing it is exchange.outbound.queue: an action is never sent from the request but becomes a
pending row of the outbox; the dossier's status changes once HubEE accepted it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from demarches.enums import CaseStatus
from dossiers.enums import ActionType, OutgoingState
from dossiers.models import Dossier, OutgoingEvent
from hubee_portal.hubee.vocabulary import LOCKED, moves_forward

MAX_MESSAGE = 1000  # HubEE's limit on message (API.md §4.5)

REQUIRED, OPTIONAL, ABSENT = "required", "optional", "absent"


@dataclass(frozen=True)
class Action:
    slug: str
    label: str
    title: str
    help: str
    action_type: str
    new_status: str = ""

    @property
    def changes_status(self) -> bool:
        return bool(self.new_status)


ACTIONS: dict[str, Action] = {
    action.slug: action
    for action in (
        Action(
            "prendre-en-charge",
            "Prendre en charge",
            "Prendre en charge le dossier",
            "Le dossier passe « En cours » sur HubEE : l'usager voit que sa demande est traitée.",
            ActionType.STATUS_UPDATE,
            CaseStatus.IN_PROGRESS,
        ),
        Action(
            "demander-complement",
            "Demander un complément",
            "Demander un complément à l'usager",
            "Le dossier passe « En attente de compléments » ; votre message explique à l'usager "
            "ce qu'il doit fournir.",
            ActionType.STATUS_UPDATE,
            CaseStatus.ADD_AWAITING,
        ),
        Action(
            "traiter",
            "Clore : demande traitée",
            "Clore le dossier : demande traitée",
            "Statut final « Traité » : l'usager voit que sa demande est traitée ; le dossier ne "
            "pourra plus être modifié.",
            ActionType.STATUS_UPDATE,
            CaseStatus.DONE,
        ),
        Action(
            "refuser",
            "Refuser la demande",
            "Refuser la demande et clore le dossier",
            "Statut final « Refusé » : le dossier ne pourra plus être modifié ; votre message "
            "explique le refus à l'usager.",
            ActionType.STATUS_UPDATE,
            CaseStatus.REFUSED,
        ),
        Action(
            "message",
            "Écrire à l'usager",
            "Envoyer un message à l'usager",
            "Le message est transmis à l'usager par l'opérateur de la démarche ; le statut du "
            "dossier ne change pas.",
            ActionType.SENDING_MESSAGE,
        ),
        Action(
            "renvoyer-documents",
            "Renvoyer des documents",
            "Renvoyer des documents à l'usager",
            "Les fichiers (par exemple une attestation) sont déposés sur HubEE puis transmis "
            "à l'usager.",
            ActionType.ATTACH_DEPOSIT,
        ),
    )
}


class ActionNotAllowed(Exception):
    """The démarche or the dossier's status does not allow it; the message is for the agent."""


def message_rule(dossier: Dossier, action: Action) -> str:
    """Whether the action's form asks for a message: never where the démarche refuses them."""
    if not dossier.demarche.allows_messages:
        return ABSENT
    if action.action_type == ActionType.SENDING_MESSAGE:
        return REQUIRED
    if action.new_status in (CaseStatus.REFUSED, CaseStatus.ADD_AWAITING):
        return REQUIRED
    return OPTIONAL


def pending_status_push(outgoing: Iterable[OutgoingEvent]) -> OutgoingEvent | None:
    for item in outgoing:
        if item.state == OutgoingState.PENDING and item.case_new_status:
            return item
    return None


def refusal(dossier: Dossier, action: Action, outgoing: Iterable[OutgoingEvent]) -> str | None:
    """Why the action cannot be done now, or None when it can."""
    demarche = dossier.demarche
    if dossier.status in LOCKED:
        return "Le dossier est clos sur HubEE : plus aucune action n'est possible."
    if action.action_type == ActionType.SENDING_MESSAGE and not demarche.allows_messages:
        return "Cette démarche n'autorise pas les messages à l'usager."
    if action.action_type == ActionType.ATTACH_DEPOSIT and not demarche.allows_document_return:
        return "Cette démarche n'autorise pas le renvoi de documents à l'usager."
    if not action.changes_status:
        return None
    if action.new_status == CaseStatus.DONE and not demarche.allow_done:
        return "Cette démarche ne permet pas de clore un dossier en « Traité »."
    if action.new_status == CaseStatus.REFUSED and not demarche.allow_refused:
        return "Cette démarche ne permet pas de refuser un dossier."
    if action.new_status == CaseStatus.ADD_AWAITING and not demarche.allows_add_awaiting:
        return "Cette démarche n'autorise pas les demandes de complément."
    if pending_status_push(outgoing) is not None:
        return "Un changement de statut est en cours d'envoi à HubEE : attendez son résultat."
    if not moves_forward(dossier.status, action.new_status):
        return (
            f"Le dossier est au statut « {dossier.get_status_display()} » : un statut HubEE "
            "ne revient pas en arrière."
        )
    return None


def available(dossier: Dossier, outgoing: Iterable[OutgoingEvent]) -> list[Action]:
    outgoing = list(outgoing)
    return [action for action in ACTIONS.values() if refusal(dossier, action, outgoing) is None]


def check(dossier: Dossier, slug: str) -> Action:
    action = ACTIONS.get(slug)
    if action is None:
        raise ActionNotAllowed("Action inconnue.")
    reason = refusal(dossier, action, OutgoingEvent.objects.filter(dossier=dossier))
    if reason:
        raise ActionNotAllowed(reason)
    return action


def author_name(user) -> str:
    return (user.get_full_name() or user.get_username())[:255]
