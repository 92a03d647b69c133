"""What agents read about a failure: a French sentence chosen from a code, saying what happened
and what to do.

Never the stored technical text (SyncRun.message, NotificationFailure.error, a HubEE error):
it may hold an HTTP code, a path or HubEE's own words. That text stays in the database for the
staff « État du portail » page, the admin and the logs.
"""

from __future__ import annotations

from django.conf import settings

from dossiers.enums import FailureKind, RunFailure, RunStatus, ScanState
from hubee_portal.hubee import Reason
from hubee_portal.hubee.errors import size_in_words
from hubee_portal.hubee.vocabulary import AttachmentStatus

TELL_ADMIN = "prévenez l'administrateur technique"
ADMIN_DETAIL = "Le détail technique est sur la page « État du portail » des administrateurs."
NOTHING_TO_DO = "rien à faire de votre côté"


def _plural(count: int, singular: str = "", plural: str = "s") -> str:
    return plural if count > 1 else singular


def next_sync() -> str:
    """When the next automatic sync runs, from the schedule's setting."""
    minutes = settings.HUBEE_SYNC_INTERVAL_MINUTES
    if minutes <= 1:
        return "dans une minute au plus"
    return f"dans {minutes} minutes au plus"


def sync_interval() -> str:
    """« toutes les N minutes », the schedule's real interval."""
    minutes = settings.HUBEE_SYNC_INTERVAL_MINUTES
    return "toutes les minutes" if minutes <= 1 else f"toutes les {minutes} minutes"


def run_failure(kind: str) -> str:
    """Why a whole run stopped (SyncRun.failure_kind), for agents."""
    match kind:
        case RunFailure.CREDENTIALS:
            return (
                "HubEE a refusé les identifiants de cette démarche : aucun dossier n'a été "
                f"relevé. {TELL_ADMIN[0].upper()}{TELL_ADMIN[1:]}, qui doit les vérifier."
            )
        case RunFailure.HUBEE:
            return (
                "Le portail n'a pas pu échanger avec HubEE (HubEE indisponible, surchargé ou "
                "connexion à revoir) : aucun dossier n'a été relevé cette fois. Nouvel essai "
                f"automatique {next_sync()} ; si cela dure plus d'une heure, {TELL_ADMIN}."
            )
        case RunFailure.DISK:
            return (
                "Le portail n'a pas pu écrire dans son dossier de téléchargement : aucun "
                f"dossier n'a été relevé. {TELL_ADMIN[0].upper()}{TELL_ADMIN[1:]}."
            )
        case RunFailure.INVALID:
            return (
                "HubEE n'a envoyé que des notifications illisibles : aucun dossier n'a été "
                f"relevé. Nouvel essai automatique {next_sync()} ; si cela dure, {TELL_ADMIN}."
            )
        case RunFailure.LEASE:
            return (
                f"Une autre synchronisation a pris le relais pour cette démarche : {NOTHING_TO_DO}."
            )
    return (
        "La synchronisation s'est arrêtée sur un incident imprévu. Nouvel essai automatique "
        f"{next_sync()} ; si cela dure, {TELL_ADMIN}."
    )


def run_outcome(status: str, failure_kind: str, errors: int) -> str:
    """The « Message » of a run on the dashboard ("" when there is nothing to say)."""
    match status:
        case RunStatus.FAILED:
            return run_failure(failure_kind)
        case RunStatus.PARTIAL:
            some = (
                f"{errors} notification{_plural(errors)} non traitée{_plural(errors)}, "
                f"conservée{_plural(errors)}"
                if errors
                else "Des notifications non traitées, conservées"
            )
            return (
                f"{some} sur HubEE : nouvel essai automatique à la prochaine synchronisation "
                "(détail dans le tableau « Notifications en échec » ci-dessous)."
            )
        case RunStatus.SKIPPED:
            return f"Une synchronisation de cette démarche était déjà en cours : {NOTHING_TO_DO}."
    return ""


FAILURE_LABELS: dict[str, str] = {
    FailureKind.TRANSIENT: "Temporaire",
    FailureKind.NOT_FOUND: "Introuvable sur HubEE",
    FailureKind.PERMANENT: "Refusée par HubEE",
    FailureKind.LOCAL: "Enregistrement impossible",
    FailureKind.INVALID: "Données HubEE incomplètes",
}


def failure_label(kind: str) -> str:
    """A notification failure's nature, without the HTTP code of FailureKind's labels."""
    return FAILURE_LABELS.get(kind, "Autre")


def notification_failure(kind: str, given_up: bool) -> str:
    """What a failed notification (NotificationFailure) means for agents."""
    if given_up:
        return (
            "Le portail a cessé de réessayer : l'administrateur technique doit l'examiner puis "
            f"l'acquitter ; {NOTHING_TO_DO}."
        )
    match kind:
        case FailureKind.TRANSIENT:
            return (
                "HubEE était momentanément indisponible, ou des pièces sont encore en cours de "
                "dépôt : nouvel essai automatique à la prochaine synchronisation, "
                f"{NOTHING_TO_DO}."
            )
        case FailureKind.NOT_FOUND:
            return (
                "Ce dossier n'existe plus sur HubEE (supprimé ou purgé) : la notification sera "
                f"abandonnée après quelques essais, {NOTHING_TO_DO}."
            )
        case FailureKind.PERMANENT:
            return (
                "HubEE a refusé une demande du portail pour ce dossier : nouvel essai à chaque "
                f"synchronisation ; si cela dure, {TELL_ADMIN}."
            )
        case FailureKind.LOCAL:
            return (
                "Le portail n'a pas pu enregistrer ce dossier (disque ou base de données) : "
                f"{TELL_ADMIN}."
            )
        case FailureKind.INVALID:
            return (
                "HubEE a transmis un dossier incomplet ou mal formé : il n'a pas été enregistré. "
                f"Nouvel essai à chaque synchronisation ; si cela dure, {TELL_ADMIN}."
            )
    return f"Cette notification n'a pas pu être traitée : si cela dure, {TELL_ADMIN}."


def hubee_reason(reason: str) -> str:
    """What a failed exchange with HubEE means for agents, from its Reason (never its text)."""
    match reason:
        case Reason.CREDENTIALS:
            return (
                "HubEE a refusé les identifiants de la démarche : "
                f"{TELL_ADMIN}, qui doit les vérifier."
            )
        case Reason.THROTTLED:
            return (
                "HubEE reçoit trop de demandes en ce moment : nouvel essai automatique dans "
                "quelques minutes."
            )
        case Reason.SERVER | Reason.AMBIGUOUS:
            return (
                "HubEE est momentanément indisponible : nouvel essai automatique dans quelques "
                "minutes."
            )
        case Reason.DNS | Reason.REFUSED | Reason.TIMEOUT | Reason.PROXY | Reason.NETWORK:
            return (
                "HubEE est injoignable depuis le portail : nouvel essai automatique dans "
                f"quelques minutes ; si cela dure plus d'une heure, {TELL_ADMIN}."
            )
        case Reason.CORRUPT_DOWNLOAD:
            return CORRUPT_DOWNLOAD
        case Reason.TOO_LARGE:
            return (
                "HubEE a envoyé une réponse plus volumineuse que la limite du portail : elle "
                "n'a pas été lue. Nouvel essai à chaque synchronisation ; si cela dure, "
                f"{TELL_ADMIN}."
            )
        case Reason.NOT_FOUND:
            return "Ce dossier n'existe plus sur HubEE (supprimé ou purgé)."
        case Reason.FORBIDDEN:
            return (
                "HubEE refuse l'accès à ce dossier pour cette démarche : "
                f"{TELL_ADMIN}, qui doit vérifier son abonnement."
            )
        case Reason.TLS | Reason.REDIRECT | Reason.NO_TOKEN:
            return f"La connexion du portail à HubEE est à revoir : {TELL_ADMIN}."
    return f"HubEE a refusé la demande du portail : {TELL_ADMIN}. {ADMIN_DETAIL}"


# PieceJointe.state_detail of a download whose size or digest kept failing its check.
CORRUPT_DOWNLOAD = (
    "Le fichier reçu de HubEE ne correspond pas à celui annoncé (taille ou empreinte) : "
    "nouvel essai automatique à la prochaine synchronisation ; si cela dure, "
    f"{TELL_ADMIN}."
)


def file_too_large(limit: int) -> str:
    """PieceJointe.state_detail of a file over HUBEE_MAX_FILE_BYTES (declared or received)."""
    return (
        f"Fichier trop volumineux pour le portail (plus de {size_in_words(limit)}) : il n'a pas "
        f"été téléchargé. {TELL_ADMIN[0].upper()}{TELL_ADMIN[1:]}, qui peut relever cette "
        "limite puis relancer le téléchargement ; sinon, demandez ce document autrement à "
        "l'usager."
    )


def download_given_up(attempts: int) -> str:
    """PieceJointe.state_detail of a file that failed its size or digest check on every run."""
    return (
        "Le fichier reçu de HubEE ne correspondait pas à celui annoncé (taille ou empreinte) : "
        f"le portail a cessé de le télécharger après {attempts} essais. L'administrateur "
        "technique en est averti et peut relancer le téléchargement ; si ce document vous "
        "manque, demandez-le à nouveau à l'usager."
    )


# A FAILED file whose state_detail is empty (never written so by the sync).
DOWNLOAD_FAILED = (
    f"Ce fichier n'a pas pu être téléchargé depuis HubEE : {TELL_ADMIN}, qui peut relancer "
    "le téléchargement."
)


def unavailable_file(hubee_status: str) -> str:
    """Why a file cannot be downloaded, from HubEE's status word (never shown itself)."""
    ask_again = " Si vous en avez besoin, demandez-le à nouveau à l'usager."
    reasons: dict[str, str] = {
        AttachmentStatus.CORRUPTED: (
            "Fichier rejeté par l'antivirus de HubEE : il n'est pas téléchargeable." + ask_again
        ),
        AttachmentStatus.REJECTED: (
            "Fichier refusé par HubEE (taille ou type différent de celui déclaré)." + ask_again
        ),
        AttachmentStatus.DELETED: (
            "Fichier supprimé de HubEE (purge) avant d'avoir été téléchargé." + ask_again
        ),
    }
    return reasons.get(hubee_status, "Fichier indisponible sur HubEE." + ask_again)


def scan_state(scan: str, signature: str) -> str:
    """Why a stored file cannot be opened yet, or at all (dossiers.records.antivirus)."""
    match scan:
        case ScanState.INFECTED:
            return (
                f"Fichier bloqué par l'antivirus ({signature}) : il a été mis en quarantaine et "
                "ne peut être ni téléchargé ni affiché. Le reste du dossier est consultable ; "
                "l'administrateur technique a été prévenu. Au besoin, demandez à l'usager un "
                "autre exemplaire du document."
            )
        case ScanState.UNSCANNABLE:
            return (
                "Non analysable : ce fichier dépasse les limites de l'antivirus (taille, "
                "archive trop profonde), il ne peut donc pas être ouvert. "
                f"{TELL_ADMIN[0].upper()}{TELL_ADMIN[1:]}, qui peut le libérer après vérification."
            )
    return (
        "En attente d'analyse antivirus : le fichier pourra être téléchargé dès qu'elle sera "
        "faite, en général dans la minute. Si cela dure, " + TELL_ADMIN + "."
    )
