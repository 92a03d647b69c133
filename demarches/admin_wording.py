"""French that reads right in the admin. Django's French builds its titles, buttons and messages
around the model's name without its article or gender: « Modification de organisation »,
« Supprimer les démarches sélectionnés », « L'objet démarche « X » a été ajouté ». `FrenchWording`,
mixed into each of the portal's ModelAdmins (and the libraries' we keep), says « Modification de
l'organisation », « Supprimer les démarches sélectionnées », « La démarche « X » a été ajoutée
avec succès. », from the gender listed in FEMININE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# The models whose verbose_name is feminine (app_label.model_name); the others are masculine.
FEMININE = {
    "demarches.demarche",
    "demarches.organisation",
    "demarches.hubeeconnection",
    "demarches.portalpage",
    "demarches.proconnectidentity",
    "dossiers.syncrun",
    "dossiers.notificationfailure",
    "dossiers.auditentry",
    "dossiers.agentpreference",
    "dossiers.purgerun",
    "django_q.schedule",
    "django_q.success",
    "django_q.failure",
    "django_q.ormq",
    "axes.accessattempt",
    "axes.accesslog",
}
VOWELS = "aeiouyàâäéèêëîïôöùûü"


@dataclass(frozen=True)
class Noun:
    """A model's name with what French grammar needs around it."""

    name: str
    plural: str
    feminine: bool

    @classmethod
    def of(cls, opts) -> Noun:
        return cls(
            str(opts.verbose_name), str(opts.verbose_name_plural), opts.label_lower in FEMININE
        )

    @property
    def elided(self) -> bool:
        return self.name[:1].lower() in VOWELS

    @property
    def the(self) -> str:  # « la démarche », « l'organisation », « le dossier »
        return f"l'{self.name}" if self.elided else f"{'la' if self.feminine else 'le'} {self.name}"

    @property
    def a(self) -> str:  # « une démarche »
        return f"{'une' if self.feminine else 'un'} {self.name}"

    @property
    def of_the(self) -> str:  # « de la démarche », « de l'organisation », « du dossier »
        if self.elided:
            return f"de l'{self.name}"
        return f"de la {self.name}" if self.feminine else f"du {self.name}"

    @property
    def it(self) -> str:  # « vous pouvez la modifier »
        return "la" if self.feminine else "le"

    def agree(self, participle: str, count: int = 1) -> str:
        """« ajouté » → « ajoutée », « ajoutés », « ajoutées »."""
        return participle + ("e" if self.feminine else "") + ("s" if count > 1 else "")


def _django_pattern(msgid: str, noun: Noun) -> re.Pattern:
    """Django's translated message as a regex: {name} is the model's name, {obj} captured."""
    parts = re.split(r"(\{name\}|\{obj\})", gettext(msgid))
    regex = []
    for part in parts:
        if part == "{name}":
            regex.append(re.escape(noun.name))
        elif part == "{obj}":
            regex.append("(?P<obj>.*)")
        else:
            regex.append(re.escape(part))
    return re.compile("".join(regex), re.S)


# Django's messages after a save or a deletion (ModelAdmin.response_*), as (msgid, verb, then).
SAVED = [
    ("The {name} “{obj}” was added successfully. You may edit it again below.", "ajouté", "edit"),
    (
        "The {name} “{obj}” was added successfully. You may add another {name} below.",
        "ajouté",
        "another",
    ),
    ("The {name} “{obj}” was added successfully.", "ajouté", ""),
    (
        "The {name} “{obj}” was changed successfully. You may edit it again below.",
        "modifié",
        "edit",
    ),
    (
        "The {name} “{obj}” was changed successfully. You may add another {name} below.",
        "modifié",
        "another",
    ),
    ("The {name} “{obj}” was changed successfully.", "modifié", ""),
    ("The {name} “{obj}” was deleted successfully.", "supprimé", ""),
]


def reword(message, noun: Noun):
    """Our French for one of Django's messages about `noun`; other messages unchanged."""
    text = str(message)
    for msgid, verb, then in SAVED:
        match = _django_pattern(msgid, noun).fullmatch(text)
        if match is None:
            continue
        obj = match.group("obj")
        if not isinstance(message, SafeString):
            obj = escape(obj)
        the = noun.the[0].upper() + noun.the[1:]
        sentence = f"{escape(the)} « {obj} » a été {noun.agree(verb)} avec succès."
        if then == "edit":
            sentence += f" Vous pouvez {noun.it} modifier à nouveau ci-dessous."
        elif then == "another":
            sentence += (
                f" Vous pouvez ajouter {escape('une autre' if noun.feminine else 'un autre')} "
                f"{escape(noun.name)} ci-dessous."
            )
        # obj is Django's own escaped link to the object; the rest is escaped here.
        return mark_safe(sentence)  # noqa: S308
    deleted = re.fullmatch(
        re.escape(gettext("Successfully deleted %(count)d %(items)s."))
        .replace("%\\(count\\)d", r"(?P<count>\d+)")
        .replace("%\\(items\\)s", ".*"),
        text,
    )
    if deleted:
        count = int(deleted.group("count"))
        what = noun.plural if count > 1 else noun.name
        return f"{count} {what} {noun.agree('supprimé', count)} avec succès."
    return message


class FrenchWording:
    """Titles, the « Ajouter … » button, the delete action and the save messages in French
    that agrees with the model's gender."""

    def _noun(self) -> Noun:
        return Noun.of(self.opts)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _ = actions["delete_selected"]
            noun = self._noun()
            description = f"Supprimer les {noun.plural} {noun.agree('sélectionné', 2)}"
            actions["delete_selected"] = (func, name, description)
        return actions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        noun = self._noun()
        if add:
            title = f"Ajout d'{noun.a}"
        elif self.has_change_permission(request, obj):
            title = f"Modification {noun.of_the}"
        else:
            title = f"Consultation {noun.of_the}"
        context.update(title=title, add_label=f"Ajout d'{noun.a}")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        noun = self._noun()
        verb = "modifier" if self.has_change_permission(request) else "consulter"
        context = {
            "title": f"Choisissez {noun.the} à {verb}",
            "add_label": f"Ajouter {noun.a}",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        return super().message_user(request, reword(message, self._noun()), level, *args, **kwargs)
