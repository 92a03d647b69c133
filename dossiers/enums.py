from django.db import models

# HubEE's vocabulary, derived once from the protocol (re-exported for the dossiers app).
from hubee_portal.choices import (  # noqa: F401
    ActionType,
    AttachmentStatus,
    CaseStatus,
    EventStatus,
)

# What the citizen sends: a message, or documents added to the case (Dossier.last_citizen_at).
CITIZEN_ACTIONS = (ActionType.SENDING_MESSAGE, ActionType.ATTACH_DEPOSIT)
# The decisions (Dossier.decided_at), by an agent or automatic.
DECISIONS = (CaseStatus.DONE, CaseStatus.REFUSED)


class Direction(models.TextChoices):
    RECEIVED = "received", "Reçu"
    SENT = "sent", "Envoyé"


class AttachmentState(models.TextChoices):
    PENDING = "pending", "À télécharger"
    STORED = "stored", "Enregistré"
    CORRUPT = "corrupt", "Corrompu"
    UNAVAILABLE = "unavailable", "Indisponible"
    # Not fetched again by the sync: too large, or given up (state_detail says which).
    FAILED = "failed", "Non téléchargée"


class ScanState(models.TextChoices):
    """The antivirus's verdict on a stored file (dossiers.records.antivirus)."""

    PENDING = "pending", "En attente d'analyse antivirus"
    CLEAN = "clean", "Analysé, sain"
    INFECTED = "infected", "Bloqué par l'antivirus"
    UNSCANNABLE = "unscannable", "Non analysable"
    # ANTIVIRUS=off, or received before the antivirus: openable, rescanned by hubee_verify.
    OFF = "off", "Non analysé"
    # Unscannable, opened by a superuser after a rescan (audited): never rescanned since.
    RELEASED = "released", "Libéré sans analyse complète"


# The verdicts under which agents may open a file.
OPENABLE_SCANS = (ScanState.CLEAN, ScanState.OFF, ScanState.RELEASED)


class OutgoingState(models.TextChoices):
    PENDING = "pending", "En attente d'envoi"
    SENT = "sent", "Transmis à HubEE"
    FAILED = "failed", "Non transmis"


class SendFailure(models.TextChoices):
    """Why a push is not (yet) on HubEE, set where the exchange knows it: the agent's page
    explains it in French from this code, never from the technical text (last_error)."""

    NONE = "", "—"
    CLOSED = "closed", "Dossier clos sur HubEE"
    BACKWARDS = "backwards", "Statut déjà dépassé"
    GONE = "gone", "Dossier introuvable sur HubEE"
    CREDENTIALS = "credentials", "Identifiants refusés par HubEE"
    CONFIGURATION = "configuration", "Connexion de la démarche à compléter"
    REFUSED = "refused", "Refusé par HubEE"
    INCOMPLETE = "incomplete", "Dépôt incomplet sur HubEE"
    FILE = "file", "Document illisible sur le serveur"
    FOREIGN = "foreign", "Identifiant d'un autre dossier"
    UNREACHABLE = "unreachable", "HubEE injoignable"
    SERVER = "server", "HubEE en erreur"
    THROTTLED = "throttled", "HubEE limite les appels"
    UNFINISHED = "unfinished", "Envoi précédent sans réponse"
    LOCAL = "local", "Erreur du portail"


class RunStatus(models.TextChoices):
    RUNNING = "running", "En cours"
    OK = "ok", "Réussie"
    PARTIAL = "partial", "Réussie avec des erreurs"
    FAILED = "failed", "Échec"
    SKIPPED = "skipped", "Ignorée (déjà en cours ailleurs)"


class RunFailure(models.TextChoices):
    """Why a whole run failed (SyncRun.failure_kind): /healthz and the alerts read it."""

    NONE = "", "—"
    CREDENTIALS = "credentials", "Identifiants refusés par HubEE"
    HUBEE = "hubee", "HubEE injoignable ou en erreur"
    DISK = "disk", "Dossier de téléchargement inutilisable"
    LEASE = "lease", "Démarche reprise par une autre synchronisation"
    INVALID = "invalid", "Notifications HubEE illisibles"


class FailureKind(models.TextChoices):
    TRANSIENT = "transient", "Temporaire (HubEE)"
    NOT_FOUND = "not_found", "Introuvable sur HubEE (404)"
    PERMANENT = "permanent", "Refusé par HubEE"
    LOCAL = "local", "Local (disque, base de données)"
    INVALID = "invalid", "Données HubEE invalides"


class AlertMode(models.TextChoices):
    NONE = "none", "Aucune alerte"
    IMMEDIATE = "immediate", "Un courriel à chaque nouveau dossier ou message de l'usager"
    DIGEST = "digest", "Un récapitulatif par jour"


class AuditAction(models.TextChoices):
    LIST = "list", "Consultation de la liste des dossiers"
    VIEW = "view", "Consultation d'un dossier"
    VIEW_XML = "view_xml", "Lecture d'une pièce XML"
    DOWNLOAD = "download", "Téléchargement d'une pièce"
    DOWNLOAD_ALL = "download_all", "Téléchargement de toutes les pièces (ZIP)"
    PREVIEW = "preview", "Aperçu d'une pièce"
    STATUS = "status", "Changement de statut demandé"
    MESSAGE = "message", "Message à l'usager"
    RETURN_DOCUMENTS = "return_documents", "Renvoi de documents à l'usager"
    RETRY = "retry", "Nouvel essai d'un envoi"
    SYNC = "sync", "Synchronisation demandée"
    PREFERENCES = "preferences", "Préférences modifiées"
    EXPORT = "export", "Export CSV de la liste des dossiers"
    TAKE = "take", "Dossier pris en charge par un agent"
    ASSIGN = "assign", "Dossier confié à un agent"
    RELEASE = "release", "Dossier libéré"
    NOTE = "note", "Note interne ajoutée"
    VIEW_SENSITIVE = (
        "view_sensitive",
        "Consultation des informations sensibles d'un certificat de décès",
    )
    ANTIVIRUS_RELEASE = "antivirus_release", "Pièce non analysable libérée par un superutilisateur"


class ActivityKind(models.TextChoices):
    """What agents did on a dossier among themselves: never sent to HubEE."""

    TAKEN = "taken", "Pris en charge"
    ASSIGNED = "assigned", "Confié"
    RELEASED = "released", "Libéré"
    RELEASED_AUTO = "released_auto", "Libéré automatiquement"
    NOTE = "note", "Note interne"
