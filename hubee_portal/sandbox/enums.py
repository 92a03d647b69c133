"""HubEE values the sandbox stores (API.md §4 and §6); values are HubEE's, labels French."""

from django.db import models


class Party(models.TextChoices):
    SI = "SI", "Service instructeur (SI)"
    OSL = "OSL", "Opérateur (OSL)"

    @property
    def other(self) -> "Party":
        return Party.OSL if self is Party.SI else Party.SI


class CaseStatus(models.TextChoices):
    HUBEE_RECEIVED = "HUBEE_RECEIVED", "Reçu par le HUBEE"
    HUBEE_COMPLETED = "HUBEE_COMPLETED", "Complété"
    HUBEE_NOTIFIED = "HUBEE_NOTIFIED", "Notifié"
    SENT = "SENT", "Transmis"
    SI_RECEIVED = "SI_RECEIVED", "Reçu"
    IN_PROGRESS = "IN_PROGRESS", "En cours"
    ADD_AWAITING = "ADD_AWAITING", "En attente de compléments"
    REFUSED = "REFUSED", "Refusé"
    DONE = "DONE", "Traité"
    CLOSED = "CLOSED", "Clos"
    SI_INTG_ERROR = "SI_INTG_ERROR", "Erreur d'intégration"
    ARCHIVED = "ARCHIVED", "Archivé"


class EventStatus(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS", "En cours de constitution"
    SENT = "SENT", "Envoyé"
    RECEIVED = "RECEIVED", "Reçu"


class AttachmentStatus(models.TextChoices):
    PENDING = "PENDING", "En attente du fichier"
    RECEIVED = "RECEIVED", "Reçu"
    CORRUPTED = "CORRUPTED", "Corrompu (antivirus)"
    REJECTED = "REJECTED", "Rejeté"
    DELETED = "DELETED", "Supprimé (purge)"


class ActionType(models.TextChoices):
    STATUS_UPDATE = "STATUS_UPDATE", "Changement de statut"
    ATTACH_DEPOSIT = "ATTACH_DEPOSIT", "Dépôt de pièces"
    ATTACH_DL = "ATTACH_DL", "Pièce téléchargée"
    ATTACH_DL_ALL = "ATTACH_DL_ALL", "Toutes les pièces téléchargées"
    COM_ADD = "COM_ADD", "Commentaire interne"
    SENDING_MESSAGE = "SENDING_MESSAGE", "Message"
