"""Status changes, messages and returned documents: confirmed, then queued in the outbox."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dossiers.enums import ActionType, CaseStatus
from dossiers.exchange.outbound import queue
from dossiers.records import access, actions, assignment, sends
from dossiers.web.forms import ActionForm


@require_http_methods(["GET", "POST"])
def dossier_action(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    try:
        action = actions.check(dossier, slug)
    except actions.ActionNotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    if request.method == "POST":
        form = ActionForm(request.POST, request.FILES, dossier=dossier, action=action)
    else:
        form = ActionForm(dossier=dossier, action=action)
    if form.is_bound and form.inserting:
        # Fills the message from the template and shows it again: nothing is sent.
        inserted = form.is_valid()
        return render(
            request,
            "dossiers/action.html",
            {
                "d": dossier,
                "action": action,
                "form": form,
                "inserted": form.templates[form.cleaned_data["reply_template"]]
                if inserted
                else None,
            },
            status=200 if inserted else 400,
        )
    if form.is_bound and form.is_valid():
        try:
            queue.perform(
                dossier,
                request.user,
                action,
                message=form.cleaned_data.get("message", ""),
                files=form.cleaned_data.get("files"),
                attachment_type=form.cleaned_data.get("attachment_type", ""),
            )
        except OSError:
            form.add_error(
                None,
                "Les documents n'ont pas pu être enregistrés sur le serveur : "
                "prévenez l'administrateur technique.",
            )
        except actions.ActionNotAllowed as exc:
            # A colleague or a sync changed the dossier since the form was shown.
            form.add_error(None, str(exc))
        else:
            messages.success(request, queued_message(action))
            take_on_start(request, dossier, action)
            # No fragment: the outcome message at the top takes the focus (portal.js), and a
            # fragment scroll would take it away.
            return redirect("dossiers:detail", pk=dossier.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "dossiers/action.html",
        {"d": dossier, "action": action, "form": form},
        status=status,
    )


def take_on_start(request: HttpRequest, dossier, action: actions.Action) -> None:
    """Where the démarche says so, « Prendre en charge » makes a free dossier the agent's."""
    if action.new_status != CaseStatus.IN_PROGRESS or not dossier.demarche.take_assigns:
        return
    try:
        if assignment.take(dossier, request.user):
            messages.info(request, "Vous êtes désormais responsable de ce dossier.")
    except assignment.AssignmentRefused:
        pass  # held by a colleague, or the agent is not on the démarche: nothing changes


def queued_message(action: actions.Action) -> str:
    """What really happened: queued, not yet on HubEE (the page follows the send)."""
    if action.changes_status:
        what = "Votre décision"
        if action.new_status == CaseStatus.IN_PROGRESS:
            what = "La prise en charge"
        elif action.new_status == CaseStatus.ADD_AWAITING:
            what = "Votre demande de complément"
    elif action.action_type == ActionType.ATTACH_DEPOSIT:
        what = "Votre envoi de documents"
    else:
        what = "Votre message"
    return (
        f"{what} est en attente d'envoi à HubEE. Son état s'affiche dans le fil du dossier, "
        "qui se met à jour tout seul (sinon, actualisez la page)."
    )


@require_POST
def retry_outgoing(request: HttpRequest, pk: int, outgoing_pk: int) -> HttpResponse:
    outgoing = access.get_outgoing(request.user, pk, outgoing_pk)
    dossier = outgoing.dossier
    if sends.retry_possible(outgoing, dossier):
        queue.retry(outgoing, request.user)
        messages.success(
            request,
            "Nouvel essai demandé : l'envoi est de nouveau en attente d'envoi à HubEE.",
        )
    else:
        messages.error(request, sends.retry_refusal(outgoing, dossier))
    return redirect("dossiers:detail", pk=dossier.pk)
