"""« État du portail »: the administrators' page inside the admin (staff only), and
/healthz for monitoring tools."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dossiers.operations import health
from dossiers.operations import page as service


@never_cache
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "État du portail",
        "ops": service.build(),
    }
    return render(request, "admin/operations.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health.check()
    return JsonResponse(report.as_json(), status=200 if report.healthy else 503)
