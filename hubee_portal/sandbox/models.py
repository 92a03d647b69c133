"""State of the fake HubEE. HubEE objects keep HubEE's UUIDs as primary keys."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .enums import ActionType, AttachmentStatus, CaseStatus, EventStatus, Party

# Nice, one of the test SIs API.md §9.3 suggests.
DEFAULT_SI_SIRET = "21060088800015"
DEFAULT_SI_BRANCH_CODE = "06088"
# A visibly fake operator identity: the sandbox does not impersonate a real OSL.
DEFAULT_OSL_SIRET = "13000000000000"
DEFAULT_OSL_BRANCH_CODE = "00000"
DEFAULT_TOKEN_LIFETIME = 3600
# HubEE's retention settings per démarche: the documented examples (API.md §9.4), real values
# are not published.
DEFAULT_STATUS_BEFORE_FILE_DELETION = CaseStatus.SI_RECEIVED
DEFAULT_TIME_BEFORE_FILE_DELETION = 1
DEFAULT_TIME_BEFORE_ARCHIVING = 1
DEFAULT_TIME_BEFORE_FOLDER_DELETION = 30
DEFAULT_THROTTLE_RETRY_AFTER = 1


class Subscription(models.Model):
    """One démarche subscription of one SI: its credentials and the démarche's rules."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("nom", max_length=255, blank=True)
    process_code = models.CharField("code de la démarche (processCode)", max_length=30)
    client_id = models.CharField(
        "identifiant client",
        max_length=255,
        unique=True,
        error_messages={"unique": "Un abonnement du bac à sable utilise déjà cet identifiant."},
    )
    # Stored in clear on purpose: fake credentials, shown to the tester.
    client_secret = models.CharField("secret client", max_length=255)
    si_siret = models.CharField(
        "SIRET du service instructeur", max_length=14, default=DEFAULT_SI_SIRET
    )
    si_branch_code = models.CharField(
        "code guichet du service instructeur", max_length=10, default=DEFAULT_SI_BRANCH_CODE
    )
    osl_code = models.CharField(
        "code de l'opérateur (OSL)",
        max_length=5,
        default="DILA",
        help_text="Début des numéros de télédossier, par exemple DILA ou DGS.",
    )
    osl_siret = models.CharField("SIRET de l'opérateur", max_length=14, default=DEFAULT_OSL_SIRET)
    osl_branch_code = models.CharField(
        "code guichet de l'opérateur", max_length=10, default=DEFAULT_OSL_BRANCH_CODE
    )
    allows_messages = models.BooleanField("autorise les messages", default=False)
    allows_add_awaiting = models.BooleanField(
        "autorise la demande de compléments (ADD_AWAITING)", default=False
    )
    allows_document_return = models.BooleanField(
        "autorise le renvoi de documents par le SI", default=False
    )
    status_before_file_deletion = models.CharField(
        "statut qui déclenche la suppression des fichiers (statusBeforeFileDeletion)",
        max_length=15,
        choices=CaseStatus.choices,
        default=DEFAULT_STATUS_BEFORE_FILE_DELETION,
        blank=True,
        help_text="Vide : les fichiers ne sont supprimés qu'à l'archivage.",
    )
    time_before_file_deletion = models.PositiveIntegerField(
        "délai avant la suppression des fichiers, en jours (timeBeforeFileDeletion)",
        default=DEFAULT_TIME_BEFORE_FILE_DELETION,
        help_text="Compté depuis le passage au statut ci-dessus, plus un jour.",
    )
    time_before_archiving = models.PositiveIntegerField(
        "délai avant l'archivage d'un télédossier clos, en jours (timeBeforeArchiving)",
        default=DEFAULT_TIME_BEFORE_ARCHIVING,
    )
    time_before_folder_deletion = models.PositiveIntegerField(
        "délai avant la suppression d'un télédossier archivé, en jours (timeBeforeFolderDeletion)",
        default=DEFAULT_TIME_BEFORE_FOLDER_DELETION,
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "abonnement du bac à sable"
        verbose_name_plural = "abonnements du bac à sable"
        ordering = ["process_code", "client_id"]

    def __str__(self) -> str:
        return f"{self.process_code} ({self.client_id})"

    def organization(self, party: Party | str) -> dict[str, str]:
        """HubEE's OrganizationIdentifier of the SI or of the OSL of this subscription."""
        if party == Party.SI:
            siret, branch_code = self.si_siret, self.si_branch_code
        else:
            siret, branch_code = self.osl_siret, self.osl_branch_code
        return {"type": str(party), "companyRegister": siret, "branchCode": branch_code}


class Token(models.Model):
    value = models.CharField("valeur", max_length=128, unique=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="tokens", verbose_name="abonnement"
    )
    expires_at = models.DateTimeField("expire le")
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "jeton du bac à sable"
        verbose_name_plural = "jetons du bac à sable"

    def __str__(self) -> str:
        return f"jeton de {self.subscription.client_id}"


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="cases", verbose_name="abonnement"
    )
    # HubEE's contract says 30 characters; longer ones are accepted to test a client's limits.
    external_id = models.CharField("numéro de télédossier (externalId)", max_length=64)
    status = models.CharField(
        "statut", max_length=15, choices=CaseStatus.choices, default=CaseStatus.HUBEE_NOTIFIED
    )
    applicant_first_name = models.CharField("prénom du demandeur", max_length=255)
    applicant_last_name = models.CharField("nom du demandeur", max_length=255)
    applicant_email = models.CharField(
        "courriel du demandeur", max_length=320, blank=True, default=""
    )
    partner_attributes = models.CharField(
        "attributs techniques (partnerAttributes)", max_length=1024, blank=True, default=""
    )
    create_date_time = models.DateTimeField("créé le", default=timezone.now)
    update_date_time = models.DateTimeField("modifié le", null=True, blank=True)
    transmission_date_time = models.DateTimeField("transmis le", null=True, blank=True)
    close_date_time = models.DateTimeField("clos le", null=True, blank=True)
    archive_date_time = models.DateTimeField("archivé le", null=True, blank=True)
    purged = models.BooleanField(
        "purgé", default=False, help_text="Un télédossier purgé répond 404 partout."
    )

    class Meta:
        verbose_name = "télédossier du bac à sable"
        verbose_name_plural = "télédossiers du bac à sable"
        ordering = ["create_date_time"]
        indexes = [models.Index(fields=["subscription", "status"], name="sandbox_case_status_idx")]

    def __str__(self) -> str:
        return self.external_id


class StatusChange(models.Model):
    """When a case reached a status: HubEE's purge counts its delays from these dates."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="status_changes", verbose_name="télédossier"
    )
    status = models.CharField("statut", max_length=15, choices=CaseStatus.choices)
    at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "changement de statut du bac à sable"
        verbose_name_plural = "changements de statut du bac à sable"
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.status} le {self.at:%d/%m/%Y %H:%M}"


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name="télédossier"
    )
    # Rank in the case history: creation times may tie, the history order must not.
    position = models.PositiveIntegerField("rang", default=0)
    transmitter_type = models.CharField("émetteur", max_length=3, choices=Party.choices)
    action_type = models.CharField("type d'action", max_length=100, choices=ActionType.choices)
    message = models.CharField("message", max_length=1000, blank=True, default="")
    comment = models.CharField("commentaire interne", max_length=1000, blank=True, default="")
    author = models.CharField("auteur", max_length=255, blank=True, default="")
    status = models.CharField("statut", max_length=12, choices=EventStatus.choices)
    case_current_status = models.CharField(
        "statut du télédossier avant", max_length=15, blank=True, default=""
    )
    case_new_status = models.CharField(
        "statut du télédossier après", max_length=15, blank=True, default=""
    )
    notification = models.BooleanField("notifier l'autre partie", default=True)
    partner_attributes = models.CharField(
        "attributs techniques (partnerAttributes)", max_length=1024, blank=True, default=""
    )
    partner_info = models.JSONField("logiciel émetteur (partnerInfo)", null=True, blank=True)
    create_date_time = models.DateTimeField("créé le", default=timezone.now)
    update_date_time = models.DateTimeField("modifié le", null=True, blank=True)

    class Meta:
        verbose_name = "événement du bac à sable"
        verbose_name_plural = "événements du bac à sable"
        ordering = ["case", "position"]

    def __str__(self) -> str:
        return f"{self.action_type} ({self.status})"

    @property
    def transmitter(self) -> Party:
        return Party(self.transmitter_type)


class Attachment(models.Model):
    """A file of the initial deposit (case set) or carried by an event (event set).

    Its content is a file under DATA_DIR/sandbox, named by the attachment id.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="attachments",
        null=True,
        blank=True,
        verbose_name="télédossier",
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="attachments",
        null=True,
        blank=True,
        verbose_name="événement",
    )
    position = models.PositiveIntegerField("rang", default=0)
    file_name = models.CharField("nom du fichier", max_length=255)
    type = models.CharField("type de pièce", max_length=100)
    mime_type = models.CharField("type MIME", max_length=255)
    size = models.PositiveBigIntegerField("taille déclarée (octets)")
    status = models.CharField(
        "statut", max_length=9, choices=AttachmentStatus.choices, default=AttachmentStatus.PENDING
    )
    sha256 = models.CharField("empreinte SHA-256 (hexadécimal)", max_length=64, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "pièce jointe du bac à sable"
        verbose_name_plural = "pièces jointes du bac à sable"
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False, event__isnull=True)
                | models.Q(case__isnull=True, event__isnull=False),
                name="sandbox_attachment_case_xor_event",
                violation_error_message=(
                    "Une pièce jointe appartient soit au télédossier, soit à un événement."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name="abonnement",
    )
    recipient_type = models.CharField("destinataire", max_length=3, choices=Party.choices)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="notifications", verbose_name="télédossier"
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
        verbose_name="événement",
    )
    # Creation order: HubEE lists the oldest first (GUESS), creation times may tie.
    sequence = models.PositiveBigIntegerField("ordre", default=0)
    created_at = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "notification du bac à sable"
        verbose_name_plural = "notifications du bac à sable"
        ordering = ["sequence"]
        indexes = [
            models.Index(
                fields=["subscription", "recipient_type", "sequence"],
                name="sandbox_notification_list_idx",
            )
        ]

    def __str__(self) -> str:
        kind = "nouveau télédossier" if self.event_id is None else "événement"
        return f"{kind} pour {self.recipient_type}"


class CallLog(models.Model):
    """One API request, so tests and benchmarks can count calls and connections."""

    time = models.DateTimeField("reçu le", default=timezone.now, db_index=True)
    method = models.CharField("méthode", max_length=10)
    path = models.CharField("route", max_length=200, help_text="Gabarit, par ex. /cases/{caseId}")
    resource = models.CharField("chemin", max_length=500)
    status_code = models.PositiveSmallIntegerField("code HTTP")
    client_id = models.CharField("identifiant client", max_length=255, blank=True)
    new_connection = models.BooleanField("nouvelle connexion", default=False)
    connection_id = models.CharField("connexion", max_length=100, blank=True)
    duration_ms = models.FloatField("durée (ms)")

    class Meta:
        verbose_name = "appel à l'API du bac à sable"
        verbose_name_plural = "appels à l'API du bac à sable"
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.resource} -> {self.status_code}"


class FaultSettings(models.Model):
    """The fault switches (a single row). Faults hit only the first attempts at a resource."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    seed = models.IntegerField("graine", default=0)
    latency_ms = models.PositiveIntegerField("latence par appel (ms)", default=0)
    connection_latency_ms = models.PositiveIntegerField(
        "latence par nouvelle connexion (ms)",
        default=0,
        help_text=(
            "Coût de la poignée de main TCP + TLS ; une connexion persistante le paie une fois."
        ),
    )
    error_rate = models.FloatField(
        "taux d'erreurs 5xx",
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    token_lifetime = models.PositiveIntegerField(
        "durée de vie des jetons (s)", default=DEFAULT_TOKEN_LIFETIME
    )
    truncate_downloads = models.BooleanField("téléchargements tronqués", default=False)
    wrong_digest = models.BooleanField("empreinte (digest) fausse", default=False)
    drop_response_after_post = models.BooleanField(
        "réponse perdue après une création d'événement",
        default=False,
        help_text="HubEE enregistre l'événement mais répond 504 : ne pas le renvoyer.",
    )
    throttle_rate = models.FloatField(
        "taux de limitation de débit (429)",
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="La passerelle refuse la requête avant tout traitement, comme WSO2.",
    )
    throttle_retry_after = models.PositiveIntegerField(
        "délai Retry-After des réponses 429 (s)",
        default=DEFAULT_THROTTLE_RETRY_AFTER,
        help_text="0 : le client peut réessayer aussitôt.",
    )
    faults_per_resource = models.PositiveSmallIntegerField(
        "tentatives touchées par ressource",
        default=1,
        help_text="1 : seule la première tentative sur une ressource subit la panne ; 0 : toutes.",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "pannes simulées"
        verbose_name_plural = "pannes simulées"

    def __str__(self) -> str:
        return "Pannes simulées du bac à sable"

    @classmethod
    def load(cls) -> FaultSettings:
        settings, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return settings


class FaultCounter(models.Model):
    """How many times a fault kind was considered at a resource (its attempt number)."""

    key = models.CharField("clé", max_length=600, unique=True)
    count = models.PositiveIntegerField("tentatives", default=0)

    class Meta:
        verbose_name = "compteur de pannes"
        verbose_name_plural = "compteurs de pannes"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
