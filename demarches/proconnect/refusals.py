"""Why a ProConnect login was refused, in words for the agent: what happened, what to do.
Technical detail goes to the logs only (logger demarches.proconnect)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    slug: str  # in the refusal page's URL
    title: str
    happened: str
    to_do: str
    ask_admin: bool = True  # the agent's portal administrator can fix it
    provider_session: bool = True  # ProConnect signed the agent in: offer another account


UNKNOWN = Reason(
    "compte-inconnu",
    "compte inconnu",
    "ProConnect vous a bien identifié, mais aucun compte de ce portail ne correspond à votre "
    "adresse électronique.",
    "Seul un administrateur du portail peut vous créer un compte : demandez-lui de vous "
    "inviter avec l'adresse que vous utilisez dans ProConnect. Si vous avez plusieurs comptes "
    "ProConnect, essayez avec un autre.",
)
INACTIVE = Reason(
    "compte-desactive",
    "compte désactivé",
    "Votre compte sur ce portail est désactivé.",
    "Demandez à un administrateur du portail de le réactiver.",
)
DUPLICATE = Reason(
    "adresse-en-double",
    "adresse partagée",
    "Plusieurs comptes actifs de ce portail ont votre adresse électronique : le portail ne "
    "peut pas savoir lequel est le vôtre.",
    "Demandez à un administrateur du portail de laisser votre adresse à un seul compte.",
)
OTHER_IDENTITY = Reason(
    "autre-identite",
    "autre identité ProConnect",
    "Votre compte est déjà relié à une autre identité ProConnect (un autre fournisseur "
    "d'identité, par exemple).",
    "Connectez-vous avec votre identité habituelle, ou demandez à un administrateur du portail "
    "de supprimer l'ancienne liaison (Administration, Identités ProConnect).",
)
SIRET = Reason(
    "organisation",
    "organisation non reconnue",
    "L'organisation (SIRET) avec laquelle vous vous êtes connecté n'utilise pas ce portail.",
    "Si vous avez plusieurs organisations dans ProConnect, connectez-vous avec celle de votre "
    "service ; sinon, demandez à un administrateur du portail d'ajouter votre organisation.",
)
CANCELLED = Reason(
    "annulee",
    "connexion annulée",
    "La connexion avec ProConnect a été annulée : vous n'êtes pas connecté.",
    "Vous pouvez recommencer quand vous le souhaitez.",
    ask_admin=False,
    provider_session=False,
)
PROVIDER = Reason(
    "erreur-proconnect",
    "erreur de ProConnect",
    "ProConnect n'a pas pu terminer votre connexion.",
    "Réessayez dans quelques minutes. Si l'erreur persiste, signalez-la à un administrateur "
    "du portail en indiquant l'heure de votre essai.",
    provider_session=False,
)
INVALID = Reason(
    "reponse-invalide",
    "réponse non vérifiée",
    "La réponse de ProConnect n'a pas pu être vérifiée : par sécurité, le portail ne vous a "
    "pas connecté.",
    "Réessayez. Si cela se reproduit, signalez-le à un administrateur du portail en indiquant "
    "l'heure de votre essai.",
)
EXPIRED = Reason(
    "session-expiree",
    "demande expirée",
    "Votre demande de connexion a expiré ou a déjà servi (page rechargée, retour arrière, "
    "attente trop longue).",
    "Recommencez la connexion depuis la page de connexion du portail.",
    ask_admin=False,
    provider_session=False,
)

REASONS = {
    reason.slug: reason
    for reason in (UNKNOWN, INACTIVE, DUPLICATE, OTHER_IDENTITY, SIRET, CANCELLED, PROVIDER)
    + (INVALID, EXPIRED)
}


class Refused(Exception):  # noqa: N818 (a refusal, not an error)
    """The backend's refusal: the reason shown to the agent, the detail for the logs."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
