"""Querysets shared by the pages (agents' and administrators')."""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from dossiers.enums import Direction, OutgoingState, SendFailure
from dossiers.models import Dossier, DossierView, Evenement, IntegrityCheck, OutgoingEvent
from hubee_portal.hubee.vocabulary import LOCKED


def with_unread(queryset: QuerySet[Dossier], user) -> QuerySet[Dossier]:
    """Annotate `unread`: never opened by this agent, or something arrived since."""
    last_view = DossierView.objects.filter(dossier=OuterRef("pk"), user=user).values("viewed_at")[
        :1
    ]
    arrived = Evenement.objects.filter(
        dossier=OuterRef("pk"),
        direction=Direction.RECEIVED,
        created_at__gt=OuterRef("last_viewed_at"),
    )
    return queryset.annotate(last_viewed_at=Subquery(last_view)).annotate(
        unread=ExpressionWrapper(
            Q(last_viewed_at__isnull=True) | Q(Exists(arrived)), output_field=BooleanField()
        )
    )


# The refusals « Réessayer » cannot overcome (dossiers.records.sends.FINAL).
FINAL_FAILURES = (
    SendFailure.CLOSED,
    SendFailure.BACKWARDS,
    SendFailure.GONE,
    SendFailure.FOREIGN,
)


def waiting_sends() -> Q:
    """Dossiers with a push waiting to be sent to HubEE."""
    return Q(Exists(OutgoingEvent.objects.pending().filter(dossier=OuterRef("pk"))))


def open_refusals() -> QuerySet[OutgoingEvent]:
    """Pushes HubEE did not get that an agent can still act on (« Réessayer »): not after a
    final refusal (closed, gone, already past, another dossier's id), not a status push a
    later status push went past."""
    later_status_sent = OutgoingEvent.objects.filter(
        dossier=OuterRef("dossier"),
        state=OutgoingState.SENT,
        created_at__gt=OuterRef("created_at"),
    ).exclude(case_new_status="")
    return (
        OutgoingEvent.objects.filter(state=OutgoingState.FAILED)
        .exclude(failure__in=FINAL_FAILURES)
        .exclude(~Q(case_new_status="") & Q(Exists(later_status_sent)))
    )


def refused_sends() -> Q:
    """Dossiers with an open refusal, unless closed since."""
    return Q(Exists(open_refusals().filter(dossier=OuterRef("pk")))) & ~Q(status__in=LOCKED)


def with_send_marks(queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """Annotate `send_waiting` and `send_refused` (for the list's marks)."""
    return queryset.annotate(
        send_waiting=ExpressionWrapper(waiting_sends(), output_field=BooleanField()),
        send_refused=ExpressionWrapper(refused_sends(), output_field=BooleanField()),
    )


def _last_finished_check() -> Subquery:
    # Finished checks only: one running (or killed by the task timeout) proves nothing.
    latest = IntegrityCheck.objects.filter(
        demarche=OuterRef("demarche"), finished_at__isnull=False
    ).order_by("-started_at", "-pk")
    return Subquery(latest.values("pk")[:1])


def last_integrity_checks(demarche_ids: list[int]) -> list[IntegrityCheck]:
    return list(
        IntegrityCheck.objects.filter(demarche_id__in=demarche_ids)
        .filter(pk=_last_finished_check())
        .select_related("demarche")
        .order_by("demarche__name")
    )


def last_integrity_failures() -> list[IntegrityCheck]:
    """The last finished check of each démarche, where it found files missing or altered: the
    few rows /healthz reports, without loading the others (2,500 démarches for an operator)."""
    return list(
        IntegrityCheck.objects.filter(Q(missing__gt=0) | Q(altered__gt=0))
        .filter(pk=_last_finished_check())
        .order_by("demarche__name")
    )
