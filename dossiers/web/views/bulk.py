"""Many dossiers at once: the list's selection is confirmed on a page of its own (GET, the ids in
the query string), done one dossier at a time on POST, then summed up (queued, refused)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from dossiers.records.actions import MAX_MESSAGE
from dossiers.web import bulk
from dossiers.web.views.list import team_agents

SESSION_KEY = "bulk_outcome"


class BulkForm(forms.Form):
    message = forms.CharField(
        label="Message à chaque usager",
        required=False,
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="Le même texte pour chaque dossier ; 1 000 caractères au plus. Il n'est pas "
        "envoyé sur les démarches qui n'autorisent pas les messages.",
        error_messages={
            "max_length": "Le message fait %(show_value)d caractères : %(limit_value)d au plus."
        },
    )
    reply_template = forms.ChoiceField(
        label="Ou un modèle de réponse",
        required=False,
        help_text="Chaque usager reçoit le modèle complété avec ses propres informations (nom, "
        "numéro du télédossier…), à la place du message.",
        error_messages={
            "invalid_choice": "Ce modèle n'existe pas pour cette démarche : choisissez-en un "
            "dans la liste."
        },
    )
    confirm = forms.BooleanField(
        label="Je confirme",
        required=True,
        error_messages={"required": "Cochez la case de confirmation pour continuer."},
    )

    def __init__(self, *args, item: bulk.BulkAction, plan: bulk.Preview, **kwargs):
        super().__init__(*args, **kwargs)
        count = len(plan.able)
        plural = "s" if count > 1 else ""
        if item.slug:
            self.fields["confirm"].label = (
                f"Je confirme : {count} changement{plural} de statut transmis à HubEE, qui ne "
                f"pourr{'ont' if count > 1 else 'a'} pas être annulé{plural} (obligatoire)"
            )
        else:
            self.fields[
                "confirm"
            ].label = f"Je confirme l'action sur {count} dossier{plural} (obligatoire)"
        self.templates = {str(t.pk): t for t in plan.templates}
        if self.templates:
            self.fields["reply_template"].choices = [
                ("", "Aucun : le message ci-dessus"),
                *((pk, t.name) for pk, t in self.templates.items()),
            ]
        else:
            del self.fields["reply_template"]
        if not (item.takes_message and plan.message_allowed):
            del self.fields["message"]
            self.fields.pop("reply_template", None)
        elif plan.message_required:
            # Checked in clean(): the message, or a template in its place.
            self.message_required = True
            self.fields["message"].label = (
                "Message à chaque usager (obligatoire, ou un modèle ci-dessous)"
                if self.templates
                else "Message à chaque usager (obligatoire)"
            )

    message_required = False

    @property
    def template(self):
        """The chosen reply template, once the form is valid (None: the message)."""
        return self.templates.get(self.cleaned_data.get("reply_template") or "")

    def full_clean(self):
        super().full_clean()
        # Each error is read with its field (RGAA 11.10): the field points to it.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                described = [f"{self[name].auto_id}_error"]
                if self.fields[name].help_text:
                    described.append(f"{self[name].auto_id}_helptext")
                widget.attrs["aria-describedby"] = " ".join(described)

    def clean_message(self) -> str:
        return self.cleaned_data.get("message", "").strip()

    def clean(self):
        cleaned = super().clean()
        if "message" not in self.fields:
            return cleaned
        message, template = cleaned.get("message"), cleaned.get("reply_template")
        if message and template:
            self.add_error(
                "reply_template",
                "Choisissez un modèle ou écrivez un message, pas les deux : videz l'un des deux.",
            )
        elif self.message_required and not message and not template and "message" in cleaned:
            self.add_error(
                "message",
                "Écrivez le message destiné aux usagers"
                + (" ou choisissez un modèle de réponse." if self.templates else "."),
            )
        return cleaned


def _problem(request: HttpRequest, text: str) -> HttpResponse:
    return render(request, "dossiers/bulk.html", {"problem": text}, status=400)


@require_http_methods(["GET", "POST"])
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    item = bulk.BULK_ACTIONS.get(data.get("action", ""))
    if item is None:
        return _problem(request, "Choisissez l'action à faire sur les dossiers sélectionnés.")
    ids = bulk.parse_ids(data.getlist("dossier"))
    if not ids:
        return _problem(request, "Cochez au moins un dossier dans la liste, puis recommencez.")
    if len(ids) > bulk.MAX_SELECTION:
        return _problem(
            request,
            f"{len(ids)} dossiers sélectionnés : {bulk.MAX_SELECTION} au plus à la fois. "
            "Réduisez la sélection (filtrez la liste, par exemple).",
        )
    target = None
    agents: list = []
    if item.team == bulk.ASSIGN:
        agents = team_agents(request.user)
        target = next((a for a in agents if str(a.pk) == data.get("agent", "")), None)
        if target is None:
            return _problem(request, "Choisissez l'agent à qui confier les dossiers.")
    dossiers = list(bulk.selection(request.user, ids))
    if not dossiers:
        return _problem(request, "Aucun des dossiers sélectionnés ne vous est accessible.")
    plan = bulk.preview(item, dossiers, request.user, target)
    if request.method == "POST":
        form = BulkForm(request.POST, item=item, plan=plan)
        if plan.able and form.is_valid():
            outcome = bulk.run(
                item,
                [d.pk for d in dossiers],
                request.user,
                message=form.cleaned_data.get("message", ""),
                target=target,
                template=form.template,
            )
            request.session[SESSION_KEY] = outcome.as_session()
            messages.success(request, _flash(item, outcome))
            return redirect("dossiers:bulk-result")
    else:
        form = BulkForm(item=item, plan=plan)
    return render(
        request,
        "dossiers/bulk.html",
        {"item": item, "plan": plan, "form": form, "target": target, "dossiers": dossiers},
        status=400 if form.is_bound else 200,
    )


def _flash(item: bulk.BulkAction, outcome: bulk.Outcome) -> str:
    refused = len(outcome.refused)
    if item.slug:
        count = len(outcome.queued)
        text = (
            f"{count} décision{'s' if count > 1 else ''} en attente d'envoi à HubEE"
            if item.slug != "prendre-en-charge"
            else f"{count} prise{'s' if count > 1 else ''} en charge en attente d'envoi à HubEE"
        )
    else:
        count = len(outcome.done)
        text = f"{count} dossier{'s' if count > 1 else ''} attribué{'s' if count > 1 else ''}"
    if refused:
        plural = "s" if refused > 1 else ""
        text += f" ; {refused} dossier{plural} non traité{plural} (raison ci-dessous)"
    return f"Action groupée enregistrée : {text}."


@require_GET
def bulk_result(request: HttpRequest) -> HttpResponse:
    stored = request.session.get(SESSION_KEY)
    if not stored:
        return render(request, "dossiers/bulk_result.html", {"summary": None})
    item = bulk.BULK_ACTIONS.get(stored.get("action", ""))
    summary = bulk.summary(request.user, stored)
    return render(
        request,
        "dossiers/bulk_result.html",
        {"summary": summary, "item": item, "announcement": bulk.announcement(summary)},
    )
