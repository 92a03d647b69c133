from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone

from demarches import crypto, reply_templates
from demarches.enums import ENVIRONMENT_URLS, AutomaticStatus, Environment, FinalStatus
from demarches.validators import hubee_url_problem, validate_download_folder, validate_siret
from hubee_portal import APPLICATION_NAME, __version__


class TimestampedModel(models.Model):
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        abstract = True


class Organisation(TimestampedModel):
    """A collectivité receiving dossiers (one install may serve several)."""

    name = models.CharField("nom", max_length=255)
    siret = models.CharField(
        "SIRET",
        max_length=14,
        unique=True,
        validators=[validate_siret],
        error_messages={"unique": "Une organisation avec ce SIRET existe déjà."},
    )
    code_guichet = models.CharField(
        "code guichet",
        max_length=10,
        blank=True,
        help_text="Pour une commune, son code INSEE (par exemple 06088).",
    )
    # The installation's identity (demarches.installation): a PNG or JPEG re-encoded by
    # demarches.logo, served by the portal itself, never the uploaded bytes.
    logo = models.BinaryField("logo", null=True, blank=True, editable=False)
    logo_type = models.CharField("type du logo", max_length=20, blank=True, editable=False)
    contact = models.CharField(
        "contact du service",
        max_length=254,
        blank=True,
        help_text="Adresse électronique ou page de contact, citée par la déclaration "
        "d'accessibilité pour demander une alternative accessible.",
    )
    dpo_contact = models.CharField(
        "contact du délégué à la protection des données",
        max_length=254,
        blank=True,
        help_text="Adresse électronique ou postale du DPO, citée par la notice sur les données "
        "personnelles.",
    )

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"


class HubEEConnection(TimestampedModel):
    """A HubEE environment and how we identify ourselves to it."""

    # Changing one changes where the démarches' secrets go: superusers only (see the admin).
    DESTINATION_FIELDS = ("token_url", "api_url")

    name = models.CharField("nom", max_length=100, unique=True)
    environment = models.CharField(
        "environnement",
        max_length=20,
        choices=Environment.choices,
        default=Environment.PREPRODUCTION,
        help_text="Les URL sont remplies d'après l'environnement, sauf pour « Autre ».",
    )
    token_url = models.URLField("URL du jeton", max_length=500, blank=True)
    api_url = models.URLField("URL de l'API", max_length=500, blank=True)
    editor_name = models.CharField(
        "nom de l'éditeur (editorName)",
        max_length=50,
        blank=True,
        help_text="En-tête envoyé à HubEE ; en général le nom de la collectivité.",
    )
    application_name = models.CharField(
        "nom de l'application (applicationName)", max_length=50, default=APPLICATION_NAME
    )
    software_version = models.CharField(
        "version du logiciel (softwareVersion)", max_length=50, default=__version__
    )
    batch_size = models.PositiveSmallIntegerField(
        "taille des lots de notifications",
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="25 est la valeur conseillée par HubEE.",
    )
    http_retries = models.PositiveSmallIntegerField(
        "nouvelles tentatives par appel HTTP",
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    not_found_attempts = models.PositiveSmallIntegerField(
        "tentatives avant d'abandonner une notification introuvable (404)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )

    class Meta:
        verbose_name = "connexion HubEE"
        verbose_name_plural = "connexions HubEE"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        preset = ENVIRONMENT_URLS.get(self.environment)
        if preset:
            self.token_url = self.token_url or preset[0]
            self.api_url = self.api_url or preset[1]
        errors = {}
        if not self.token_url:
            errors["token_url"] = "Indiquez l'URL du jeton pour un environnement « Autre »."  # noqa: S105
        if not self.api_url:
            errors["api_url"] = "Indiquez l'URL de l'API pour un environnement « Autre »."
        for name, _, url, problem in self.destination_problems():
            if name not in errors and _is_url(url):  # otherwise the field's own error says it
                errors[name] = problem
        if errors:
            raise ValidationError(errors)

    def destination_problems(
        self, *, sandbox: bool | None = None
    ) -> list[tuple[str, str, str, str]]:
        """(field, label, URL, French reason) of each destination URL the policy refuses
        (demarches.validators.hubee_url_problem): on save, before each use, in check --deploy."""
        problems = []
        for name in self.DESTINATION_FIELDS:
            url = getattr(self, name)
            problem = hubee_url_problem(url, sandbox=sandbox)
            if problem:
                problems.append((name, str(self._meta.get_field(name).verbose_name), url, problem))
        return problems

    @property
    def destination(self) -> tuple[str, str]:
        """Where the démarches' client secrets are sent: the token URL, and the API's."""
        return (self.token_url, self.api_url)


def _is_url(value: str) -> bool:
    try:
        URLValidator()(value)
    except ValidationError:
        return False
    return True


class Demarche(TimestampedModel):
    """A HubEE subscription: one process code, one pair of credentials, one folder."""

    name = models.CharField("nom affiché", max_length=255)
    process_code = models.CharField(
        "code de la démarche (processCode)",
        max_length=30,
        help_text="Sensible à la casse, par exemple EtatCivil ou recensementCitoyen.",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="demarches",
        verbose_name="organisation",
    )
    connection = models.ForeignKey(
        HubEEConnection,
        on_delete=models.PROTECT,
        related_name="demarches",
        verbose_name="connexion HubEE",
    )
    client_id = models.CharField(
        "identifiant client (client id)",
        max_length=255,
        unique=True,
        error_messages={"unique": "Une démarche utilise déjà cet identifiant client."},
    )
    # Fernet token; read and written through client_secret (see demarches.crypto).
    client_secret_encrypted = models.TextField("secret client chiffré", editable=False)
    # When the secret last changed (set by client_secret); empty for one stored before 0007.
    secret_set_at = models.DateTimeField("secret enregistré le", null=True, editable=False)
    download_folder = models.CharField(
        "dossier de téléchargement",
        max_length=1000,
        validators=[validate_download_folder],
        help_text="Chemin absolu sur le serveur ; il est créé s'il n'existe pas.",
    )
    automatic_status = models.CharField(
        "statut automatique à la réception",
        max_length=20,
        choices=AutomaticStatus.choices,
        blank=True,
        default=AutomaticStatus.SI_RECEIVED,
        help_text="Envoyé à HubEE dès que le dossier et ses fichiers sont enregistrés.",
    )
    allow_done = models.BooleanField("les agents peuvent clore en « Traité » (DONE)", default=True)
    allow_refused = models.BooleanField(
        "les agents peuvent clore en « Refusé » (REFUSED)", default=True
    )
    automatic_final_status = models.CharField(
        "statut final automatique",
        max_length=20,
        choices=FinalStatus.choices,
        blank=True,
        default="",
        help_text=(
            "Laisser vide : un agent décide. DONE ou REFUSED reproduit le script officiel, "
            "qui clôt chaque dossier juste après son téléchargement."
        ),
    )
    allows_add_awaiting = models.BooleanField(
        "autorise la demande de compléments (ADD_AWAITING)", default=False
    )
    allows_messages = models.BooleanField("autorise les messages à l'usager", default=False)
    allows_document_return = models.BooleanField(
        "autorise le renvoi de documents à l'usager", default=False
    )
    enabled = models.BooleanField(
        "active", default=False, help_text="Seules les démarches actives sont synchronisées."
    )
    retention_months = models.PositiveSmallIntegerField(
        "durée de conservation (mois)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(1200)],
        help_text=(
            "Après un statut final (Traité, Refusé, Clos), les fichiers et les données "
            "personnelles du dossier sont supprimés passé ce délai ; une trace anonyme reste."
        ),
    )
    take_assigns = models.BooleanField(
        "« Prendre en charge » attribue le dossier",
        default=False,
        help_text=(
            "L'agent qui prend en charge un dossier encore libre en devient le responsable "
            "(« Je m'en occupe »)."
        ),
    )
    sensitive = models.BooleanField(
        "Démarche sensible : double authentification exigée",
        default=False,
        help_text=(
            "Les agents confirment leur identité par un second facteur (application "
            "d'authentification, ou double authentification ProConnect) avant d'ouvrir un "
            "dossier de cette démarche."
        ),
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="demarches",
        verbose_name="agents habilités",
        help_text="Les agents qui voient et traitent les dossiers de cette démarche.",
    )

    class Meta:
        verbose_name = "démarche"
        verbose_name_plural = "démarches"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "process_code"],
                name="demarche_unique_process_per_organisation",
                violation_error_message=(
                    "Cette organisation a déjà une démarche avec ce code de démarche."
                ),
            ),
        ]
        indexes = [models.Index(fields=["enabled"], name="demarche_enabled_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.process_code})"

    @property
    def client_secret(self) -> str:
        if not self.client_secret_encrypted:
            return ""
        return crypto.decrypt(self.client_secret_encrypted)

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        # The date tells when the secret changed: the same one set again (an import) keeps it.
        if value and self.client_secret_encrypted:
            try:
                if crypto.decrypt(self.client_secret_encrypted) == value:
                    return
            except crypto.SecretDecryptionError:
                pass
        self.client_secret_encrypted = crypto.encrypt(value) if value else ""
        self.secret_set_at = timezone.now() if value else None

    @property
    def secret_state(self) -> str:
        """Whether a secret is stored and since when, in French (never the secret)."""
        if not self.client_secret_encrypted:
            return "Aucun secret enregistré"
        if self.secret_set_at is None:
            return "Secret enregistré, date inconnue (enregistré avant cette version)"
        return f"Secret enregistré le {timezone.localtime(self.secret_set_at):%d/%m/%Y à %H:%M}"

    @property
    def final_statuses(self) -> list[str]:
        statuses = []
        if self.allow_done:
            statuses.append(FinalStatus.DONE.value)
        if self.allow_refused:
            statuses.append(FinalStatus.REFUSED.value)
        return statuses

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if not (self.allow_done or self.allow_refused):
            errors["allow_done"] = (
                "Autorisez au moins un statut final (Traité ou Refusé) : HubEE impose de "
                "clore chaque dossier."
            )
        if self.automatic_final_status and self.automatic_final_status not in self.final_statuses:
            errors["automatic_final_status"] = (
                "Le statut final automatique doit faire partie des statuts finaux autorisés."
            )
        if errors:
            raise ValidationError(errors)


class AttachmentTypeLabel(TimestampedModel):
    """The words an agent reads for an attachment ``type`` code sent by HubEE.

    One label per code, whatever the démarche: in the HubEE test kit (API.md section 10) each
    code has one meaning; only the generic ``document(s)`` appear in several démarches, and
    they mean the same everywhere. Seeded by migration 0004; new codes are added in the admin.
    """

    code = models.CharField(
        "code HubEE",
        max_length=100,
        unique=True,
        help_text="Exactement comme HubEE l'envoie (majuscules et minuscules comprises), "
        "par exemple « 10870-PDF » ou « ji ».",
        error_messages={"unique": "Ce code a déjà un libellé : modifiez-le plutôt."},
    )
    label = models.CharField(
        "libellé",
        max_length=200,
        help_text="Ce que les agents lisent dans la liste des pièces jointes du dossier.",
    )
    assumed = models.BooleanField(
        "libellé supposé",
        default=False,
        help_text="Cochez si le sens du code est déduit et non documenté par l'opérateur : "
        "les agents voient « (type supposé) » après le libellé.",
    )

    class Meta:
        verbose_name = "type de pièce"
        verbose_name_plural = "types de pièces"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} : {self.label}"


class ReplyTemplate(TimestampedModel):
    """A text an agent inserts into a message, a complement request or a refusal, with fixed
    placeholders filled for the dossier (demarches.reply_templates)."""

    demarche = models.ForeignKey(
        Demarche,
        on_delete=models.CASCADE,
        related_name="reply_templates",
        verbose_name="démarche",
    )
    name = models.CharField(
        "nom", max_length=100, help_text="Ce que l'agent choisit dans la liste des modèles."
    )
    text = models.TextField(
        "texte",
        help_text=(
            "Variables remplacées pour chaque dossier : "
            f"{reply_templates.placeholders_help()}. "
            f"HubEE accepte {reply_templates.grouped(reply_templates.MAX_MESSAGE)} caractères "
            "au plus par message, variables remplacées."
        ),
    )
    purpose = models.CharField(
        "utilisable pour",
        max_length=20,
        choices=reply_templates.Purpose.choices,
        default=reply_templates.Purpose.ALL,
        help_text="Les formulaires où le modèle est proposé.",
    )

    class Meta:
        verbose_name = "modèle de réponse"
        verbose_name_plural = "modèles de réponse"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["demarche", "name"],
                name="reply_template_unique_name_per_demarche",
                violation_error_message="Cette démarche a déjà un modèle de réponse de ce nom.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            demarche = self.demarche
        except ObjectDoesNotExist:  # the field's own error says it
            demarche = None
        if demarche is not None and not demarche.allows_messages:
            raise ValidationError(
                "Cette démarche n'autorise pas les messages à l'usager : pas de modèle de réponse."
            )
        unknown = reply_templates.find_unknown(self.text or "")
        if unknown:
            raise ValidationError(
                {
                    "text": (
                        f"{'Variable inconnue' if len(unknown) == 1 else 'Variables inconnues'} "
                        f": {', '.join(unknown)}. Variables possibles : "
                        f"{', '.join(reply_templates.PLACEHOLDERS)}."
                    )
                }
            )
        fixed = reply_templates.static_length(self.text or "")
        if fixed > reply_templates.MAX_MESSAGE:
            raise ValidationError(
                {
                    "text": (
                        f"Le texte fait {reply_templates.grouped(fixed)} caractères sans "
                        "compter les variables : HubEE en accepte "
                        f"{reply_templates.grouped(reply_templates.MAX_MESSAGE)} au plus par "
                        "message. Raccourcissez-le."
                    )
                }
            )


class PortalPage(TimestampedModel):
    """A page whose text the installation writes (accessibility statement, legal notice,
    personal data): plain text, rendered by demarches.pages (paragraphs, « ## » headings,
    « - » lists, links), never HTML. Without a row, the portal's default draft is shown."""

    class Slug(models.TextChoices):
        ACCESSIBILITY = "accessibilite", "Déclaration d'accessibilité"
        LEGAL = "mentions-legales", "Mentions légales"
        PRIVACY = "donnees-personnelles", "Données personnelles"

    slug = models.CharField(
        "page",
        max_length=30,
        choices=Slug.choices,
        unique=True,
        error_messages={"unique": "Cette page a déjà son texte : modifiez-le."},
    )
    text = models.TextField(
        "texte",
        help_text="Texte brut : une ligne vide sépare les paragraphes, « ## » en début de ligne "
        "fait un titre, « - » un élément de liste ; les adresses web et électroniques deviennent "
        "des liens. Aucun HTML.",
    )

    class Meta:
        verbose_name = "page du portail"
        verbose_name_plural = "pages du portail"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.get_slug_display()


# Defined in their own modules; imported here so that Django finds the models.
from demarches.access_tokens import AccessToken  # noqa: E402, F401
from demarches.identities import ProConnectIdentity  # noqa: E402, F401
