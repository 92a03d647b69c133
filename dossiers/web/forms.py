from __future__ import annotations

from django import forms
from django.conf import settings

from dossiers.enums import ActionType, AlertMode
from dossiers.models import Dossier
from dossiers.records.actions import ABSENT, MAX_MESSAGE, REQUIRED, Action, message_rule
from dossiers.web.formats import file_size

MAX_RETURN_FILES = 10

CONFIRM_LABELS = {
    ActionType.STATUS_UPDATE: (
        "Je confirme : ce changement de statut sera transmis à HubEE et ne pourra pas être annulé."
    ),
    ActionType.SENDING_MESSAGE: "Je confirme l'envoi de ce message à l'usager.",
    ActionType.ATTACH_DEPOSIT: "Je confirme l'envoi de ces documents à l'usager.",
}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else [data]
        items = [item for item in items if item]
        if not items:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ActionForm(forms.Form):
    """One form for every action; which fields it has depends on the action and démarche."""

    message = forms.CharField(
        label="Message à l'usager",
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="Transmis à l'usager par l'opérateur de la démarche ; 1 000 caractères au plus.",
    )
    files = MultipleFileField(
        label="Documents",
        help_text=f"{MAX_RETURN_FILES} fichiers au plus, "
        f"{file_size(settings.HUBEE_RETURN_MAX_BYTES)} chacun.",
    )
    attachment_type = forms.CharField(
        label="Type de document pour HubEE",
        max_length=100,
        initial="document",
        required=False,
        help_text="Laissez « document » sauf si la démarche attend un autre type.",
    )
    confirm = forms.BooleanField(label="Je confirme.", required=True)

    def __init__(self, *args, dossier: Dossier, action: Action, **kwargs):
        # Several action forms share the detail page: ids must not collide.
        kwargs.setdefault("auto_id", f"id_{action.slug}_%s")
        super().__init__(*args, **kwargs)
        self.action = action
        rule = message_rule(dossier, action)
        if rule == ABSENT:
            del self.fields["message"]
        else:
            self.fields["message"].required = rule == REQUIRED
            if rule == REQUIRED:
                self.fields["message"].label = "Message à l'usager (obligatoire)"
                self.fields["message"].error_messages["required"] = (
                    "Écrivez le message destiné à l'usager."
                )
        if action.action_type != ActionType.ATTACH_DEPOSIT:
            del self.fields["files"]
            del self.fields["attachment_type"]
        self.fields["confirm"].label = CONFIRM_LABELS[action.action_type]
        self.fields["confirm"].error_messages["required"] = (
            "Cochez la case de confirmation pour continuer."
        )

    def clean_attachment_type(self) -> str:
        return self.cleaned_data.get("attachment_type", "").strip() or "document"

    def clean_message(self) -> str:
        message = self.cleaned_data.get("message", "").strip()
        if self.fields["message"].required and not message:
            raise forms.ValidationError("Écrivez le message destiné à l'usager.")
        return message

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if len(files) > MAX_RETURN_FILES:
            raise forms.ValidationError(f"{MAX_RETURN_FILES} fichiers au plus par envoi.")
        for item in files:
            if item.size > settings.HUBEE_RETURN_MAX_BYTES:
                raise forms.ValidationError(
                    "Un fichier dépasse la taille maximale "
                    f"({file_size(settings.HUBEE_RETURN_MAX_BYTES)})."
                )
            if item.size == 0:
                raise forms.ValidationError("Un fichier est vide.")
        return files


class PreferenceForm(forms.Form):
    alert_mode = forms.ChoiceField(
        label="Alertes par courriel",
        choices=AlertMode.choices,
        widget=forms.RadioSelect,
        help_text="Pour les dossiers des démarches qui vous sont confiées.",
    )
