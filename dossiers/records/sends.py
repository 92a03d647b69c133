"""What an agent reads about a push to HubEE: its state and, in French, what happened and what
to do. Chosen from the row's state and `failure` code only: HubEE's text, HTTP codes and paths
(last_error) stay for the staff pages and the logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from dossiers.enums import OutgoingState, SendFailure
from dossiers.models import Dossier, OutgoingEvent
from dossiers.records.querysets import FINAL_FAILURES
from hubee_portal.hubee.vocabulary import LOCKED, CaseStatus, label_of, moves_forward

WAITING, SENT, REFUSED, NOT_SENT = "waiting", "sent", "refused", "not-sent"
LABELS = {
    WAITING: "En attente d'envoi",
    SENT: "Transmis à HubEE",
    REFUSED: "Refusé par HubEE",
    NOT_SENT: "Non transmis",
}
BADGES = {WAITING: "waiting", SENT: "done", REFUSED: "error", NOT_SENT: "error"}

CLOSED = "Le dossier a été clos côté usager : plus aucune action n'est possible."
ASK_ADMIN = "Prévenez l'administrateur technique : le détail est sur la page « État du portail »."
# The same, inside a sentence.
ASK_ADMIN_INLINE = ASK_ADMIN[0].lower() + ASK_ADMIN[1:]
# Refusals a retry cannot overcome: the page says what to do instead of offering it.
FINAL = frozenset(FINAL_FAILURES)

TEMPORARY = frozenset(
    {
        SendFailure.UNREACHABLE,
        SendFailure.SERVER,
        SendFailure.THROTTLED,
        SendFailure.UNFINISHED,
        SendFailure.CONFIGURATION,
        SendFailure.LOCAL,
    }
)

WAITING_TEXTS = {
    SendFailure.NONE: "Le portail le transmet à HubEE dans quelques instants.",
    SendFailure.CONFIGURATION: (
        "Rien n'a été envoyé : la connexion de la démarche à HubEE est à compléter par "
        "l'administrateur technique. L'envoi partira tout seul ensuite."
    ),
    SendFailure.UNFINISHED: (
        "Un essai précédent est resté sans réponse de HubEE : le portail vérifie s'il a été "
        "reçu avant de réessayer, pour ne jamais l'envoyer deux fois."
    ),
    SendFailure.UNREACHABLE: (
        "HubEE ne répond pas pour le moment : le portail réessaie tout seul."
    ),
    SendFailure.SERVER: ("HubEE est momentanément en difficulté : le portail réessaie tout seul."),
    SendFailure.THROTTLED: (
        "HubEE demande de patienter (trop d'envois en même temps) : le portail réessaie tout seul."
    ),
    SendFailure.CREDENTIALS: (
        "HubEE refuse pour l'instant les identifiants de la démarche : le portail réessaie "
        "tout seul. " + ASK_ADMIN
    ),
}
FAILED_TEXTS = {
    SendFailure.CLOSED: CLOSED,
    SendFailure.GONE: (
        "Le dossier n'existe plus sur HubEE (supprimé ou archivé) : plus rien ne peut lui être "
        "envoyé."
    ),
    SendFailure.FOREIGN: (
        "HubEE a répondu avec l'identifiant d'un autre dossier : rien n'a été modifié. "
        "Vérifiez sur HubEE si l'envoi a été reçu avant de le refaire. " + ASK_ADMIN
    ),
    SendFailure.CREDENTIALS: (
        "HubEE a refusé les identifiants de la démarche. " + ASK_ADMIN + " Réessayez ensuite."
    ),
    SendFailure.REFUSED: (
        "HubEE n'a pas accepté cet envoi (règle de la démarche ou configuration). "
        + ASK_ADMIN
        + " Réessayez une fois la configuration corrigée."
    ),
    SendFailure.INCOMPLETE: (
        "HubEE n'a pas enregistré tous les documents : le dépôt a été annulé. Réessayez ; si "
        "cela se reproduit, " + ASK_ADMIN_INLINE
    ),
    SendFailure.FILE: (
        "Un document à envoyer n'est plus lisible sur le serveur : rien n'a été transmis. "
        "Renvoyez les documents avec « Renvoyer des documents »."
    ),
}


@dataclass(frozen=True)
class SendState:
    key: str
    detail: str
    next_try: datetime | None = None
    can_retry: bool = False

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def badge(self) -> str:
        return BADGES[self.key]

    @property
    def next_try_text(self) -> str:
        """« Nouvel essai à 14 h 05 » (with the day when it is not today)."""
        if self.next_try is None:
            return ""
        when = timezone.localtime(self.next_try)
        hour = f"{when:%H} h {when:%M}"
        if when.date() != timezone.localdate():
            return f"Nouvel essai le {date_format(when, 'j F')} à {hour}"
        return f"Nouvel essai à {hour}"

    @property
    def pending(self) -> bool:
        return self.key == WAITING


def state_of(outgoing: OutgoingEvent, dossier: Dossier) -> SendState:
    if outgoing.state == OutgoingState.SENT:
        return SendState(SENT, "")
    failure = outgoing.failure or SendFailure.NONE
    if outgoing.state == OutgoingState.PENDING:
        detail = WAITING_TEXTS.get(failure, WAITING_TEXTS[SendFailure.NONE])
        soon = outgoing.next_attempt_at
        if failure == SendFailure.NONE or (soon is not None and soon <= timezone.now()):
            soon = None
        return SendState(WAITING, detail, next_try=soon)
    if failure == SendFailure.BACKWARDS:
        detail = (
            f"Le dossier était déjà au statut « {label_of(dossier.status)} » : un statut "
            "HubEE ne revient pas en arrière, rien n'a été envoyé."
        )
        return SendState(NOT_SENT, detail)
    if failure in FAILED_TEXTS:
        return SendState(
            REFUSED, FAILED_TEXTS[failure], can_retry=retry_possible(outgoing, dossier)
        )
    if failure in TEMPORARY and outgoing.attempts:
        # Out of attempts on temporary failures (HubEE unreachable, in error, throttling…).
        tries = outgoing.attempts
        detail = (
            f"HubEE n'a pas pu être joint après {tries} essai{'s' if tries > 1 else ''}. "
            "Réessayez ; si cela dure, " + ASK_ADMIN_INLINE
        )
    else:
        detail = (
            "Cet envoi n'a pas été transmis à HubEE. Réessayez ; si cela se reproduit, "
            + ASK_ADMIN_INLINE
        )
    return SendState(NOT_SENT, detail, can_retry=retry_possible(outgoing, dossier))


def retry_possible(outgoing: OutgoingEvent, dossier: Dossier) -> bool:
    """Only where a new try can succeed: not on a closed dossier, not after a final refusal,
    not a status the dossier has gone past since."""
    if outgoing.state != OutgoingState.FAILED or dossier.status in LOCKED:
        return False
    if outgoing.case_new_status and not moves_forward(dossier.status, outgoing.case_new_status):
        return False
    return outgoing.failure not in FINAL


def retry_refusal(outgoing: OutgoingEvent, dossier: Dossier) -> str:
    """Why « Réessayer » is not possible, for the page that refuses it."""
    if outgoing.state != OutgoingState.FAILED:
        return "Cet envoi n'est pas en échec : il n'y a rien à réessayer."
    if dossier.status in LOCKED or outgoing.failure == SendFailure.CLOSED:
        return locked_reason(dossier)
    if outgoing.case_new_status and not moves_forward(dossier.status, outgoing.case_new_status):
        return (
            f"Le dossier est déjà au statut « {label_of(dossier.status)} » : un statut HubEE ne "
            "revient pas en arrière, cet envoi n'a plus lieu d'être."
        )
    return state_of(outgoing, dossier).detail


def locked_reason(dossier: Dossier) -> str:
    """Why nothing more can be done on a dossier HubEE has locked."""
    if dossier.status == CaseStatus.ARCHIVED:
        return "Le dossier est archivé sur HubEE : plus aucune action n'est possible."
    return CLOSED
