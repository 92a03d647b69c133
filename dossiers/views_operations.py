"""« État du portail »: the administrators' page inside the admin (staff only)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dossiers import operations as service


@never_cache
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "État du portail",
        "ops": service.build(),
    }
    return render(request, "admin/operations.html", context)
