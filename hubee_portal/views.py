from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demarches.models import Demarche


def home(request: HttpRequest) -> HttpResponse:
    demarches = Demarche.objects.select_related("organisation").order_by("name")
    return render(request, "home.html", {"demarches": demarches})
