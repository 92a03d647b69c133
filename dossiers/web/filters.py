"""Search, filters and sort of the dossier list (django-filter)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import (
    Q,
    QuerySet,
)
from django.utils import timezone

from demarches.enums import CaseStatus
from dossiers.models import Dossier
from dossiers.records.access import demarches_for
from dossiers.records.querysets import refused_sends, waiting_sends
from dossiers.records.queues import Queue, queue_q

SORTS = (
    ("received_at", "received"),
    ("external_id", "numero"),
    ("applicant_last_name", "demandeur"),
    ("status", "statut"),
    ("demarche__name", "demarche"),
)
SORT_LABELS = {
    "received": "Date de réception",
    "numero": "Numéro de télédossier",
    "demandeur": "Demandeur",
    "statut": "Statut",
    "demarche": "Démarche",
}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class DossierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Rechercher",
        method="search",
        help_text="Numéro de télédossier, nom ou courriel du demandeur.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    demarche = django_filters.ModelChoiceFilter(
        label="Démarche", queryset=None, empty_label="Toutes"
    )
    status = django_filters.ChoiceFilter(
        label="Statut HubEE", choices=CaseStatus.choices, empty_label="Tous"
    )
    recu_depuis = django_filters.DateFilter(
        label="Reçu depuis le",
        method="received_since",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    recu_avant = django_filters.DateFilter(
        label="Reçu jusqu'au",
        method="received_until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    non_lus = django_filters.BooleanFilter(
        label="Non lus seulement",
        method="only_unread",
        widget=forms.CheckboxInput,
    )
    envoi = django_filters.ChoiceFilter(
        label="Envois à HubEE",
        choices=(("attente", "En attente d'envoi"), ("refuse", "Non transmis à HubEE")),
        method="sends",
        empty_label="Tous",
    )
    # Applied by the view after counting each queue (the tabs show those counts).
    file = django_filters.ChoiceFilter(
        label="File", choices=Queue.choices, method="keep", empty_label="Toutes"
    )
    tri = django_filters.OrderingFilter(
        label="Trier par", fields=SORTS, field_labels=SORT_LABELS, empty_label="Plus récents"
    )

    class Meta:
        model = Dossier
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["demarche"].queryset = demarches_for(user).order_by("name")

    def search(self, queryset, name, value: str):
        for term in value.split()[:10]:
            condition = (
                Q(external_id__icontains=term)
                | Q(applicant_first_name__icontains=term)
                | Q(applicant_last_name__icontains=term)
                | Q(applicant_email__icontains=term)
            )
            with contextlib.suppress(ValueError):
                condition |= Q(hubee_case_id=uuid.UUID(term))
            queryset = queryset.filter(condition)
        return queryset

    def received_since(self, queryset, name, value: date):
        return queryset.filter(received_at__gte=_start_of(value))

    def received_until(self, queryset, name, value: date):
        return queryset.filter(received_at__lt=_start_of(value + timedelta(days=1)))

    def only_unread(self, queryset, name, value: bool):
        return queryset.filter(unread=True) if value else queryset

    def sends(self, queryset, name, value: str):
        if value == "attente":
            return queryset.filter(waiting_sends())
        if value == "refuse":
            return queryset.filter(refused_sends())
        return queryset

    def keep(self, queryset, name, value):
        return queryset

    @property
    def queue(self) -> str:
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("file") or ""
        return ""

    def in_queue(self, queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
        return queryset.filter(queue_q(self.queue)) if self.queue else queryset
