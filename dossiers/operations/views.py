"""« État du portail »: the administrators' page inside the admin (staff only), and
/healthz for monitoring tools."""

import hmac

from django.conf import settings
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
        "ops": service.build(page=request.GET.get("page")),
    }
    return render(request, "admin/operations.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health.check()
    body = report.as_json()
    if not sees_details(request):
        body = {"status": body["status"]}
    return JsonResponse(body, status=200 if report.healthy else 503)


def sees_details(request: HttpRequest) -> bool:
    """Démarche ids, worker times and free disk help an attacker: only the monitoring tool
    (settings.HEALTHZ_TOKEN as a bearer) and the administrateurs techniques see them."""
    user = request.user
    if user.is_authenticated and user.is_active and user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
