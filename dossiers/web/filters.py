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
from dossiers.records.queues import (
    ASSIGNED_ME,
    ASSIGNED_NOBODY,
    Queue,
    assigned_q,
    queue_q,
    with_citizen_message,
)

# (field, URL value, French label): the column headers are the only sort control.
SORTS = (
    ("received_at", "received", "Date de réception"),
    ("external_id", "numero", "Numéro de télédossier"),
    ("applicant_last_name", "demandeur", "Demandeur"),
    ("status", "statut", "Statut"),
    ("demarche__name", "demarche", "Démarche"),
)
# Keyed by URL value, for the headers.
SORT_LABELS = {value: label for _field, value, label in SORTS}

# The statuses an agent works with; HubEE's technical ones are under « Plus de filtres ».
MAIN_STATUSES = (
    CaseStatus.SI_RECEIVED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.ADD_AWAITING,
    CaseStatus.DONE,
    CaseStatus.REFUSED,
    CaseStatus.CLOSED,
)
OTHER_STATUSES = tuple(s for s in CaseStatus if s not in MAIN_STATUSES)
# The filters inside « Plus de filtres » (the disclosure opens when one is set).
MORE_FILTERS = ("statut_hubee", "recu_depuis", "recu_avant")


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
        label="Statut",
        choices=[(s.value, s.label) for s in MAIN_STATUSES],
        empty_label="Tous",
    )
    attribue = django_filters.ChoiceFilter(
        label="Attribué à", choices=(), method="assigned", empty_label="Tous"
    )
    message = django_filters.ChoiceFilter(
        label="Messages de l'usager",
        choices=(("nouveau", "Nouveau message de l'usager"),),
        method="citizen",
        empty_label="Tous",
    )
    statut_hubee = django_filters.ChoiceFilter(
        field_name="status",
        label="Autre statut HubEE",
        choices=[(s.value, s.label) for s in OTHER_STATUSES],
        empty_label="Tous",
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
        choices=(("attente", "En attente d'envoi"), ("refuse", "Envoi en échec")),
        method="sends",
        empty_label="Tous",
    )
    # Applied by the view after counting each queue (the tabs show those counts).
    file = django_filters.ChoiceFilter(
        label="File", choices=Queue.choices, method="keep", empty_label="Toutes"
    )
    # Not shown as a field: the column headers set it (one sort control).
    tri = django_filters.OrderingFilter(
        label="Trier par",
        fields=[(field, value) for field, value, _label in SORTS],
        field_labels={field: label for field, _value, label in SORTS},
        empty_label="Plus récents",
    )

    class Meta:
        model = Dossier
        fields: list[str] = []

    def __init__(self, data=None, *args, user, agents=(), **kwargs):
        if data is not None and data.get("status") in OTHER_STATUSES:
            # Links written before « Plus de filtres » (bookmarks): the technical status moves.
            data = data.copy()
            data.setdefault("statut_hubee", data["status"])
            del data["status"]
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.filters["demarche"].queryset = demarches_for(user).order_by("name")
        self.filters["attribue"].extra["choices"] = [
            (ASSIGNED_ME, "Moi"),
            (ASSIGNED_NOBODY, "Personne (à prendre)"),
            *((str(agent.pk), agent_label(agent)) for agent in agents),
        ]

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

    def assigned(self, queryset, name, value: str):
        return queryset.filter(assigned_q(value, self.user))

    def citizen(self, queryset, name, value: str):
        return with_citizen_message(queryset, self.user) if value == "nouveau" else queryset

    def keep(self, queryset, name, value):
        return queryset

    @property
    def queue(self) -> str:
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("file") or ""
        return ""

    def in_queue(self, queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
        return queryset.filter(queue_q(self.queue)) if self.queue else queryset


def agent_label(user) -> str:
    return user.get_full_name() or user.get_username()


def more_filters_open(filterset: DossierFilter) -> bool:
    data = filterset.data or {}
    return any(data.get(name) for name in MORE_FILTERS)
