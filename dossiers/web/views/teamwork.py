"""Team work on a dossier: « Je m'en occupe », « Confier à… », « Libérer », internal notes.
Nothing here is sent to HubEE."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dossiers.records import access, assignment
from dossiers.records.actions import author_name
from dossiers.records.assignment import AssignmentRefused


def _back(dossier_pk: int) -> HttpResponse:
    # No fragment: the outcome message at the top takes the focus (portal.js).
    return redirect("dossiers:detail", pk=dossier_pk)


def _shown_holder(request: HttpRequest) -> int | None | str:
    """The holder the agent's page showed (« » for nobody); missing: not checked."""
    value = request.POST.get("holder")
    if value is None:
        return "unchecked"
    return int(value) if value.isdigit() else None


@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    try:
        if assignment.take(dossier, request.user):
            messages.success(request, "Dossier pris en charge : vous en êtes le responsable.")
        else:
            messages.info(request, "Vous étiez déjà responsable de ce dossier.")
    except AssignmentRefused as exc:
        messages.error(request, str(exc))
    return _back(dossier.pk)


@require_POST
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    wanted = request.POST.get("agent", "")
    to = assignment.candidates(dossier).filter(pk=wanted).first() if wanted.isdigit() else None
    if to is None:
        messages.error(request, "Choisissez l'agent à qui confier le dossier.")
        return _back(dossier.pk)
    try:
        assignment.assign(dossier, to, by=request.user, shown=_shown_holder(request))
    except AssignmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Dossier confié à {author_name(to)}.")
    return _back(dossier.pk)


@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    if assignment.release(dossier, by=request.user):
        messages.success(request, "Le dossier est libéré : un collègue peut le prendre.")
    else:
        messages.info(request, "Personne n'était responsable de ce dossier.")
    return _back(dossier.pk)


@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = access.get_dossier(request.user, pk)
    try:
        assignment.add_note(dossier, request.user, request.POST.get("note", ""))
    except AssignmentRefused as exc:
        messages.error(request, str(exc))
        return _back(dossier.pk)
    messages.success(
        request, "Note ajoutée : seuls ceux qui ont accès au dossier la lisent, jamais l'usager."
    )
    return _back(dossier.pk)
