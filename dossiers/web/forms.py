from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import prefetch_related_objects

from demarches import reply_templates
from demarches.enums import CaseStatus
from demarches.models import ReplyTemplate
from dossiers.enums import ActionType, AlertMode
from dossiers.models import Dossier
from dossiers.records.actions import ABSENT, MAX_MESSAGE, REQUIRED, Action, message_rule
from dossiers.web.formats import file_size

MAX_RETURN_FILES = 10
# The submit button that fills the message from the chosen template instead of sending.
INSERT_TEMPLATE = "insert_template"

CONFIRM_LABELS = {
    ActionType.STATUS_UPDATE: (
        "Je confirme : ce changement de statut sera transmis à HubEE et ne pourra pas être "
        "annulé (obligatoire)"
    ),
    ActionType.SENDING_MESSAGE: "Je confirme : ce message sera transmis à l'usager (obligatoire)",
    ActionType.ATTACH_DEPOSIT: (
        "Je confirme : ces documents seront transmis à l'usager (obligatoire)"
    ),
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


def template_purpose(action: Action) -> str | None:
    """Which reply templates the action's form offers, if any."""
    if action.action_type == ActionType.SENDING_MESSAGE:
        return reply_templates.Purpose.MESSAGE
    if action.new_status == CaseStatus.ADD_AWAITING:
        return reply_templates.Purpose.COMPLEMENT
    if action.new_status == CaseStatus.REFUSED:
        return reply_templates.Purpose.REFUSAL
    if action.new_status == CaseStatus.DONE:
        # No purpose of its own: the templates written « pour tous les messages ».
        return reply_templates.Purpose.ALL
    return None


def offered_templates(dossier: Dossier, action: Action) -> list[ReplyTemplate]:
    """The démarche's templates for this action; fetched once per démarche instance, so the
    dossier page's several forms cost one query."""
    purpose = template_purpose(action)
    if purpose is None or message_rule(dossier, action) == ABSENT:
        return []
    prefetch_related_objects([dossier.demarche], "reply_templates")
    wanted = {purpose, reply_templates.Purpose.ALL}
    return [t for t in dossier.demarche.reply_templates.all() if t.purpose in wanted]


def template_values(dossier: Dossier) -> dict[str, str]:
    return reply_templates.values(
        first_name=dossier.applicant_first_name,
        last_name=dossier.applicant_last_name,
        number=dossier.external_id,
        demarche=dossier.demarche.name,
        deposited_at=dossier.hubee_created_at or dossier.received_at,
    )


class ActionForm(forms.Form):
    """One form for every action; which fields it has depends on the action and démarche.

    Posted with the INSERT_TEMPLATE button, it only fills the message from the chosen reply
    template (`inserting`): nothing else is checked and nothing is sent.
    """

    reply_template = forms.ChoiceField(
        label="Modèle de réponse",
        required=False,
        help_text="« Insérer le modèle » remplace le message par le texte du modèle, complété "
        "pour ce dossier : relisez-le avant d'envoyer.",
        error_messages={
            "invalid_choice": "Ce modèle n'existe pas pour cette démarche : choisissez-en un "
            "dans la liste.",
            "required": "Choisissez un modèle de réponse dans la liste.",
        },
    )
    message = forms.CharField(
        label="Message à l'usager",
        # HubEE's limit, kept by the browser too; the server's check is clean_message.
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60, "maxlength": MAX_MESSAGE}),
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
        self.templates = {str(t.pk): t for t in offered_templates(dossier, action)}
        if self.templates:
            self.fields["reply_template"].choices = [
                ("", "— Choisir un modèle —"),
                *((pk, t.name) for pk, t in self.templates.items()),
            ]
        else:
            del self.fields["reply_template"]
        chosen = self.is_bound and self.data.get(self.add_prefix("reply_template"))
        if self.templates and chosen and "message" in self.fields:
            # A template chosen but not inserted: say which button fills the message.
            self.fields["message"].error_messages["required"] = (
                "Écrivez le message destiné à l'usager, ou cliquez sur « Insérer le modèle » "
                "puis relisez le texte."
            )
        # Never a send, even with no template left to insert (deleted meanwhile).
        self.inserting = self.is_bound and INSERT_TEMPLATE in self.data
        if self.inserting:
            self._prepare_insertion(dossier)

    def _prepare_insertion(self, dossier: Dossier) -> None:
        """Only the template is required; the message becomes its expansion, checked for
        length like any message."""
        self._required = {name: field.required for name, field in self.fields.items()}
        for name, field in self.fields.items():
            field.required = name == "reply_template"
        chosen = self.templates.get(self.data.get(self.add_prefix("reply_template"), ""))
        if chosen is not None:
            self.data = self.data.copy()
            self.data[self.add_prefix("message")] = reply_templates.expand(
                chosen.text, template_values(dossier)
            )

    def full_clean(self) -> None:
        super().full_clean()
        if self.inserting:
            # Shown again as the agent will send it: the same required fields.
            for name, required in self._required.items():
                self.fields[name].required = required
            if not self._errors and "message" in self.fields:
                # Without JavaScript too: the agent lands on the text to read over.
                self.fields["message"].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = super().clean()
        if self.inserting and not self.templates:
            raise forms.ValidationError(
                "Aucun modèle de réponse n'est proposé pour cette action : écrivez le message "
                "vous-même."
            )
        return cleaned

    def clean_attachment_type(self) -> str:
        return self.cleaned_data.get("attachment_type", "").strip() or "document"

    def clean_message(self) -> str:
        # Browsers post line breaks as CRLF but count them as one character.
        message = self.cleaned_data.get("message", "").replace("\r\n", "\n").strip()
        if self.fields["message"].required and not message:
            raise forms.ValidationError(self.fields["message"].error_messages["required"])
        problem = reply_templates.length_problem(message)
        if problem:
            raise forms.ValidationError(problem, code="max_length")
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
