"""An agent's e-mail alert choice."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dossiers.enums import AuditAction
from dossiers.records import access, alerts, audit
from dossiers.web.forms import PreferenceForm


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    preference = alerts.preference_for(request.user)
    form = PreferenceForm(request.POST or None, initial={"alert_mode": preference.alert_mode})
    if request.method == "POST" and form.is_valid():
        alerts.set_alert_mode(request.user, form.cleaned_data["alert_mode"])
        audit.record(request.user, AuditAction.PREFERENCES, detail=form.cleaned_data["alert_mode"])
        messages.success(request, "Vos préférences sont enregistrées.")
        return redirect("preferences")
    return render(
        request,
        "dossiers/preferences.html",
        {
            "form": form,
            "demarches": access.demarches_for(request.user).order_by("name"),
        },
    )
