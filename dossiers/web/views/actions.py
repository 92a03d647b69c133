"""Status changes, messages and returned documents: confirmed, then queued in the outbox."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dossiers.exchange.outbound import queue
from dossiers.records import access, actions
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
                "prévenez l'administrateur.",
            )
        else:
            messages.success(
                request,
                f"« {action.label} » est envoyé à HubEE ; l'état de l'envoi est affiché "
                "ci-dessous.",
            )
            return redirect("dossiers:detail", pk=dossier.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "dossiers/action.html",
        {"d": dossier, "action": action, "form": form},
        status=status,
    )


@require_POST
def retry_outgoing(request: HttpRequest, pk: int, outgoing_pk: int) -> HttpResponse:
    outgoing = access.get_outgoing(request.user, pk, outgoing_pk)
    queue.retry(outgoing, request.user)
    messages.success(request, "L'envoi est relancé.")
    return redirect("dossiers:detail", pk=outgoing.dossier_id)
