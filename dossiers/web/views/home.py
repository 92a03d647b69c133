"""The dashboard (home page) and its « Synchroniser maintenant » button."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from dossiers.enums import AuditAction
from dossiers.exchange import run
from dossiers.records import access, audit, polls
from dossiers.web import dashboard


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"board": dashboard.build(request.user)})


@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    ids = list(run.enabled(access.demarches_for(request.user)).values_list("pk", flat=True))
    for pk in ids:
        # A person asked: polled every minute again (adaptive polling).
        polls.mark_active(pk)
        async_task(
            "dossiers.tasks.sync_demarche_task",
            pk,
            task_name=f"hubee-sync-{pk}",
            group="hubee_sync",
        )
    audit.record(request.user, AuditAction.SYNC, detail=f"{len(ids)} démarche(s)")
    if ids:
        messages.success(
            request,
            f"Synchronisation demandée pour {len(ids)} démarche{'s' if len(ids) > 1 else ''} : "
            "son résultat s'affiche dans « Dernières synchronisations » ci-dessous (actualisez "
            "la page s'il n'y est pas encore).",
        )
    else:
        messages.error(
            request,
            "Aucune démarche active à synchroniser : demandez à l'administrateur technique "
            "d'activer vos démarches.",
        )
    return redirect("home")
