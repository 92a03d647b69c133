"""Forms of the sandbox's staff pages (the OSL side): French labels, no JavaScript needed."""

from __future__ import annotations

import functools
import random

from django import forms
from django.core.files.uploadedfile import UploadedFile

from . import content
from .enums import CaseStatus
from .models import FaultSettings, Subscription
from .services import FAULT_FIELDS, RETENTION_FIELDS
from .workflow import MAX_TEXT

MAX_SEED = 2**31 - 1
MAX_DAYS_LATER = 3650


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); none is allowed."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


@functools.cache
def _generated(process_code: str) -> tuple[content.GeneratedFile, ...]:
    rng = random.Random(0)  # noqa: S311 - test data
    applicant = content.random_applicant(rng)
    return tuple(content.generate_files(process_code, applicant, "EXEMPLE-01", rng))


def known_types(process_code: str) -> tuple[str, ...]:
    """The attachment types a deposit of this démarche carries (from the generated files)."""
    return tuple(dict.fromkeys(f.type for f in _generated(process_code)))


def complement_type(process_code: str) -> str:
    """A sensible type for a document the citizen adds: the démarche's last PDF type."""
    pdf_types = [f.type for f in _generated(process_code) if f.mime_type == content.PDF_MIME]
    return pdf_types[-1] if pdf_types else content.GENERIC_TYPE


class _FrenchForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class _FilesMixin(_FrenchForm):
    fichiers = MultipleFileField(
        label="Fichiers à envoyer (facultatif)",
        help_text="Laissez vide pour que le bac à sable produise lui-même des fichiers réalistes.",
    )
    type_piece = forms.CharField(
        label="Type de pièce des fichiers envoyés",
        max_length=100,
        required=False,
        help_text="Le « type » HubEE de chaque fichier envoyé, par exemple ActeEtatCivil-PDF.",
    )

    def __init__(
        self, *args, process_code: str = "", default_type: str | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        types = known_types(process_code) if process_code else ()
        self.known_types = types
        if default_type or types:
            self.fields["type_piece"].initial = default_type or types[0]
        self.fields["type_piece"].widget.attrs["list"] = "types-connus"

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("fichiers") and not cleaned.get("type_piece"):
            self.add_error("type_piece", "Indiquez le type de pièce des fichiers envoyés.")
        return cleaned


class DepositForm(_FilesMixin):
    """A télédossier deposited by the operator: the applicant, then the files."""

    prenom = forms.CharField(label="Prénom du demandeur", max_length=255)
    nom = forms.CharField(label="Nom du demandeur", max_length=255)
    courriel = forms.EmailField(label="Courriel du demandeur (facultatif)", required=False)
    eicar = forms.BooleanField(
        label="Joindre aussi le fichier de test antivirus EICAR",
        required=False,
        help_text="Un fichier inoffensif que tout antivirus signale : le portail doit le bloquer "
        "(« Fichier bloqué par l'antivirus ») et laisser le reste du dossier consultable.",
    )
    graine = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, max_value=MAX_SEED, required=False
    )

    field_order = ["prenom", "nom", "courriel", "fichiers", "type_piece", "eicar", "graine"]


class DocumentsForm(_FilesMixin):
    """Extra documents from the citizen (ATTACH_DEPOSIT)."""

    message = forms.CharField(
        label="Message accompagnant les pièces (facultatif)",
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    renotifier = forms.BooleanField(
        label="Répondre à la demande de compléments : remettre le télédossier au statut "
        f"« {CaseStatus.HUBEE_NOTIFIED.label} » ({CaseStatus.HUBEE_NOTIFIED})",
        required=False,
        initial=True,
    )

    def __init__(self, *args, allows_messages: bool = True, awaiting: bool = False, **kwargs):
        if kwargs.get("process_code"):
            kwargs.setdefault("default_type", complement_type(kwargs["process_code"]))
        super().__init__(*args, **kwargs)
        if not allows_messages:
            del self.fields["message"]
        if not awaiting:
            del self.fields["renotifier"]


class MessageForm(_FrenchForm):
    message = forms.CharField(
        label="Message de l'opérateur au service instructeur",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseForm(_FrenchForm):
    message = forms.CharField(
        label="Message de clôture (facultatif)",
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, allows_messages: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not allows_messages:
            del self.fields["message"]


class FaultForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    class Meta:
        model = FaultSettings
        fields = list(FAULT_FIELDS)
        widgets = {
            "error_rate": forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1}),
            "throttle_rate": forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1}),
        }


class RetentionForm(forms.ModelForm):
    """A démarche's retention settings (API.md §9.4)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Unique ids per subscription: several of these forms share one page.
        self.auto_id = f"id_{self.instance.pk}_%s"
        status = self.fields["status_before_file_deletion"]
        status.choices = [("", "Aucun : fichiers supprimés à l'archivage seulement")] + [
            choice for choice in status.choices if choice[0]
        ]

    class Meta:
        model = Subscription
        fields = list(RETENTION_FIELDS)


class PurgeForm(_FrenchForm):
    jours = forms.IntegerField(
        label="Comme si nous étions ce nombre de jours plus tard",
        min_value=0,
        max_value=MAX_DAYS_LATER,
        initial=0,
        help_text="0 : la purge du jour. 31 : un télédossier clos aujourd'hui est archivé puis "
        "supprimé (avec les délais par défaut).",
    )
