"""Who is in charge of a dossier: at most one agent, taken by a conditional UPDATE, handed to
a colleague, released by hand or when the agent loses the démarche. Every change is audited
and kept in the dossier's history (DossierActivity)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dossiers.enums import ActivityKind, AuditAction
from dossiers.models import Dossier, DossierActivity
from dossiers.records import audit
from dossiers.records.actions import author_name

MAX_NOTE = 2000


class AssignmentRefused(Exception):
    """The change cannot be made; the message is French, for the agent."""


def candidates(dossier: Dossier) -> QuerySet:
    """Whom a dossier can be handed to: the active agents habilitated on its démarche."""
    return (
        get_user_model()
        .objects.filter(is_active=True, demarches=dossier.demarche_id)
        .order_by("first_name", "last_name", "username")
    )


def holder_name(dossier_id: int) -> str:
    holder = Dossier.objects.filter(pk=dossier_id).select_related("assigned_to").get().assigned_to
    return author_name(holder) if holder is not None else ""


def take(dossier: Dossier, user) -> bool:
    """« Je m'en occupe »: the dossier becomes the user's if nobody has it. False when it was
    already theirs; AssignmentRefused (« Déjà pris par … ») when a colleague was quicker."""
    if not candidates(dossier).filter(pk=user.pk).exists():
        raise AssignmentRefused(
            "Seuls les agents habilités sur cette démarche peuvent prendre un dossier en charge."
        )
    now = timezone.now()
    # Free, or held by someone who can no longer hold it (an account deactivated by a bulk
    # update, which sends no signal).
    free = Q(assigned_to__isnull=True) | ~Q(assigned_to__in=candidates(dossier).values("pk"))
    with transaction.atomic():
        won = Dossier.objects.filter(free, pk=dossier.pk).update(
            assigned_to=user, assigned_at=now, updated_at=now
        )
        if won:
            _record(dossier, ActivityKind.TAKEN, AuditAction.TAKE, by=user, to=user)
    if won:
        dossier.assigned_to, dossier.assigned_at = user, now
        return True
    current = Dossier.objects.filter(pk=dossier.pk).values_list("assigned_to", flat=True).get()
    if current == user.pk:
        return False
    raise AssignmentRefused(f"Déjà pris par {holder_name(dossier.pk)}.")


def assign(dossier: Dossier, to, by, shown: int | None | str = "unchecked") -> None:
    """« Confier à… »: hand the dossier to a colleague habilitated on its démarche. `shown` is
    the holder's id the agent's page showed (None: nobody): a colleague who took it since is
    never overridden unseen."""
    if not candidates(dossier).filter(pk=to.pk).exists():
        raise AssignmentRefused(
            "Ce dossier ne peut être confié qu'à un agent actif habilité sur sa démarche."
        )
    now = timezone.now()
    rows = Dossier.objects.filter(pk=dossier.pk)
    if shown != "unchecked":
        rows = rows.filter(assigned_to=shown) if shown else rows.filter(assigned_to__isnull=True)
    with transaction.atomic():
        if not rows.update(assigned_to=to, assigned_at=now, updated_at=now):
            holder = holder_name(dossier.pk)
            raise AssignmentRefused(
                f"Entre-temps, {holder} a pris ce dossier : rien n'a été changé."
                if holder
                else "Entre-temps, le dossier a été libéré : rien n'a été changé."
            )
        _record(dossier, ActivityKind.ASSIGNED, AuditAction.ASSIGN, by=by, to=to)
    dossier.assigned_to, dossier.assigned_at = to, now


def release(dossier: Dossier, by) -> bool:
    """« Libérer »: nobody is in charge any more. False when nobody was."""
    now = timezone.now()
    with transaction.atomic():
        released = Dossier.objects.filter(pk=dossier.pk, assigned_to__isnull=False).update(
            assigned_to=None, assigned_at=None, updated_at=now
        )
        if released:
            _record(dossier, ActivityKind.RELEASED, AuditAction.RELEASE, by=by)
    dossier.assigned_to, dossier.assigned_at = None, None
    return bool(released)


def add_note(dossier: Dossier, by, text: str) -> DossierActivity:
    """A note for the démarche's agents: kept here, never sent to HubEE."""
    # A browser counts a line break once (maxlength) but posts it as CR LF.
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise AssignmentRefused("Écrivez le texte de la note.")
    if len(text) > MAX_NOTE:
        raise AssignmentRefused(
            f"La note fait {len(text)} caractères : {MAX_NOTE} au plus. Raccourcissez-la."
        )
    with transaction.atomic():
        return _record(dossier, ActivityKind.NOTE, AuditAction.NOTE, by=by, text=text)


def release_lost(user_ids: Iterable[int], demarche_ids: Iterable[int] | None, reason: str) -> int:
    """Release the dossiers these users hold (in these démarches; all when None): they lost the
    habilitation, or their account. Returns how many were released."""
    held = Dossier.objects.filter(assigned_to_id__in=list(user_ids))
    if demarche_ids is not None:
        held = held.filter(demarche_id__in=list(demarche_ids))
    released = 0
    for dossier in held.select_related("assigned_to"):
        holder = dossier.assigned_to
        with transaction.atomic():
            # Conditional: a colleague who took it meanwhile keeps it.
            if not Dossier.objects.filter(pk=dossier.pk, assigned_to=holder).update(
                assigned_to=None, assigned_at=None, updated_at=timezone.now()
            ):
                continue
            _record(
                dossier,
                ActivityKind.RELEASED_AUTO,
                AuditAction.RELEASE,
                by=None,
                to=holder,
                text=reason,
            )
        released += 1
    return released


def _record(dossier: Dossier, kind: str, action: AuditAction, *, by, to=None, text: str = ""):
    activity = DossierActivity.objects.create(
        dossier=dossier,
        kind=kind,
        by=by,
        by_name=author_name(by) if by is not None else "",
        to=to,
        to_name=author_name(to) if to is not None else "",
        text=text,
    )
    audit.record(
        by,
        action,
        dossier=dossier,
        object_ref=f"agent {to.pk}" if to is not None else "",
        detail=kind,
    )
    return activity
