"""What stops one notification of a sync, and the texts the journal keeps for it."""

from __future__ import annotations


class InvalidDataError(Exception):
    """HubEE sent something we cannot store (missing id, wrong case…)."""


def incomplete_payload(field: str) -> str:
    """The journal's text for a case or event lacking a field HubEE's API requires."""
    return (
        f"HubEE a envoyé un dossier incomplet ou mal formé (champ « {field} » absent ou "
        "invalide) : il n'a pas été enregistré. Il sera relu à la prochaine synchronisation ; "
        "si l'erreur persiste, signalez-la à l'assistance de HubEE."
    )


class PendingAttachmentError(Exception):
    """A file is still PENDING on HubEE: keep the notification and try again later."""


# HubEE ids are unique across the portal: a connection answering another démarche's ids
# (misconfigured, or pointed at another server) never reaches that démarche's rows.
CHECK_CONNECTION = (
    " Vérifiez l'adresse de la connexion HubEE de cette démarche et ses identifiants : "
    "ils doivent être ceux de son propre abonnement."
)
FOREIGN_CASE = (
    "Ce cas HubEE appartient déjà à une autre démarche du portail : il n'a pas été modifié."
    + CHECK_CONNECTION
)
FOREIGN_EVENT = (
    "Cet événement HubEE appartient déjà à une autre démarche du portail : "
    "il n'a pas été modifié." + CHECK_CONNECTION
)
OTHER_DOSSIER_EVENT = (
    "Cet événement HubEE est déjà enregistré sur un autre dossier de cette démarche : il n'a "
    "pas été déplacé. Signalez-le à l'assistance de HubEE avec l'identifiant de l'événement."
)
