"""Handling many dossiers at once from the list: each dossier goes through the rules of a single
action (actions.check, assignment.take / assign) and the outbox (queue.perform), on its own, so
that one refusal or failure never undoes the others. What the confirmation page and the summary
read, in a fixed number of queries whatever the selection."""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError
from django.db.models import QuerySet

from demarches import reply_templates
from demarches.models import Demarche, ReplyTemplate
from dossiers.enums import OutgoingState
from dossiers.exchange.outbound import queue
from dossiers.models import Dossier, OutgoingEvent
from dossiers.records import actions, assignment, sends
from dossiers.records.access import dossiers_for
from dossiers.records.actions import ABSENT, REQUIRED, ActionNotAllowed, message_rule
from dossiers.records.assignment import AssignmentRefused
from dossiers.web.forms import offered_templates, template_values

logger = logging.getLogger(__name__)

MAX_SELECTION = 100  # dossiers per request: the confirmation page stays short and fast
TAKE, ASSIGN = "take", "assign"


@dataclass(frozen=True)
class BulkAction:
    value: str
    label: str  # in the list's menu and the confirmation page's title
    button: str
    help: str
    slug: str = ""  # the single action (records.actions) it repeats, if a HubEE one
    team: str = ""  # TAKE or ASSIGN: who is in charge, never sent to HubEE

    @property
    def action(self) -> actions.Action | None:
        return actions.ACTIONS[self.slug] if self.slug else None

    @property
    def takes_message(self) -> bool:
        return self.slug in ("traiter", "refuser")


BULK_ACTIONS: dict[str, BulkAction] = {
    item.value: item
    for item in (
        BulkAction(
            "je-m-en-occupe",
            "Je m'en occupe",
            "M'attribuer ces dossiers",
            "Les dossiers libres vous sont attribués ; rien n'est envoyé à HubEE.",
            team=TAKE,
        ),
        BulkAction(
            "confier",
            "Confier à un agent",
            "Confier ces dossiers",
            "Les dossiers sont attribués à l'agent choisi ; rien n'est envoyé à HubEE.",
            team=ASSIGN,
        ),
        BulkAction(
            "prendre-en-charge",
            "Prendre en charge (statut « En cours »)",
            "Prendre en charge ces dossiers",
            "Chaque dossier passe « En cours » sur HubEE : l'usager voit que sa demande est "
            "traitée.",
            slug="prendre-en-charge",
        ),
        BulkAction(
            "traiter",
            "Clore : demande traitée",
            "Clore ces dossiers : demandes traitées",
            "Statut final « Traité » pour chaque dossier : il ne pourra plus être modifié. "
            "Le même message est envoyé à chaque usager.",
            slug="traiter",
        ),
        BulkAction(
            "refuser",
            "Refuser la demande",
            "Refuser ces demandes",
            "Statut final « Refusé » pour chaque dossier : il ne pourra plus être modifié. "
            "Le même message explique le refus à chaque usager.",
            slug="refuser",
        ),
    )
}
BULK_CHOICES = [(item.value, item.label) for item in BULK_ACTIONS.values()]

ALREADY_MINE = "Ce dossier vous est déjà attribué."
NOT_HABILITATED = "Seuls les agents habilités sur cette démarche peuvent prendre un dossier."
PORTAL_ERROR = (
    "Le portail n'a pas pu enregistrer l'action sur ce dossier : réessayez ; si cela se "
    "reproduit, prévenez l'administrateur technique."
)
MESSAGE_NEEDED = "Cette démarche demande un message à l'usager : écrivez-le."


def parse_ids(values: Iterable[str]) -> list[int]:
    """The selected ids, deduplicated, in their order; anything not a number is ignored."""
    ids: list[int] = []
    for value in values:
        if value.isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


def selection(user, ids: list[int]) -> QuerySet[Dossier]:
    """The selected dossiers the user may see (others are silently left out), newest first."""
    return (
        dossiers_for(user)
        .filter(pk__in=ids[:MAX_SELECTION])
        .select_related("demarche", "assigned_to")
        .order_by("-received_at", "-pk")
    )


def _pending_by_dossier(dossiers: list[Dossier]) -> dict[int, list[OutgoingEvent]]:
    pending: dict[int, list[OutgoingEvent]] = defaultdict(list)
    rows = OutgoingEvent.objects.filter(
        dossier__in=[d.pk for d in dossiers], state=OutgoingState.PENDING
    ).only("pk", "dossier_id", "state", "case_new_status")
    for row in rows:
        pending[row.dossier_id].append(row)
    return pending


def habilitated_demarches(user) -> set[int]:
    return set(
        Demarche.agents.through.objects.filter(user=user).values_list("demarche_id", flat=True)
    )


def foreseen_refusal(
    item: BulkAction,
    dossier: Dossier,
    *,
    user,
    pending: list[OutgoingEvent],
    mine: set[int],
    target=None,
    target_demarches: set[int] | None = None,
) -> str | None:
    """Why this dossier will not take the action (for the confirmation page), or None."""
    if item.team == TAKE:
        if dossier.demarche_id not in mine:
            return NOT_HABILITATED
        if dossier.assigned_to_id == user.pk:
            return ALREADY_MINE
        if dossier.assigned_to_id is not None:
            return f"Déjà pris par {actions.author_name(dossier.assigned_to)}."
        return None
    if item.team == ASSIGN:
        if target is None:
            return None
        if dossier.demarche_id not in (target_demarches or set()):
            return "Cet agent n'est pas habilité sur la démarche de ce dossier."
        if dossier.assigned_to_id == target.pk:
            return f"Déjà confié à {actions.author_name(target)}."
        return None
    action = item.action
    return actions.refusal(dossier, action, pending) if action is not None else None


@dataclass
class Preview:
    """The confirmation page: which dossiers will take the action, which will not and why."""

    able: list[Dossier] = field(default_factory=list)
    refused: list[tuple[Dossier, str]] = field(default_factory=list)
    message_required: bool = False
    message_allowed: bool = False
    # The reply templates offered: those of the démarche when the dossiers share one.
    templates: list[ReplyTemplate] = field(default_factory=list)


def preview(item: BulkAction, dossiers: list[Dossier], user, target=None) -> Preview:
    pending = _pending_by_dossier(dossiers) if item.slug else {}
    mine = habilitated_demarches(user) if item.team == TAKE else set()
    target_demarches = habilitated_demarches(target) if target is not None else None
    result = Preview()
    for dossier in dossiers:
        reason = foreseen_refusal(
            item,
            dossier,
            user=user,
            pending=pending.get(dossier.pk, []),
            mine=mine,
            target=target,
            target_demarches=target_demarches,
        )
        if reason:
            result.refused.append((dossier, reason))
            continue
        result.able.append(dossier)
        action = item.action
        if item.takes_message and action is not None and dossier.demarche.allows_messages:
            result.message_allowed = True
            if message_rule(dossier, action) == REQUIRED:
                result.message_required = True
    action = item.action
    one_demarche = len({dossier.demarche_id for dossier in result.able}) == 1
    if result.message_allowed and action is not None and one_demarche:
        result.templates = offered_templates(result.able[0], action)
    return result


TEMPLATE_TOO_LONG = (
    "Le modèle complété pour ce dossier dépasse la longueur qu'accepte HubEE : traitez-le seul "
    "depuis sa page, en raccourcissant le message."
)


def message_for(dossier: Dossier, message: str, template: ReplyTemplate | None) -> str:
    """The text this dossier's citizen receives: the template completed with their own
    details, or the one message."""
    if template is None:
        return message
    if template.demarche_id != dossier.demarche_id:
        raise ActionNotAllowed("Ce modèle de réponse n'est pas celui de la démarche du dossier.")
    text = reply_templates.expand(template.text, template_values(dossier))
    if reply_templates.length_problem(text):
        raise ActionNotAllowed(TEMPLATE_TOO_LONG)
    return text


@dataclass
class Outcome:
    """What was done: pushes queued (dossier id, outbox row id), team changes made, refusals."""

    action: str
    queued: list[tuple[int, int]] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def as_session(self) -> dict:
        return {
            "action": self.action,
            "queued": self.queued,
            "done": self.done,
            "refused": self.refused,
        }


def run(
    item: BulkAction,
    ids: list[int],
    user,
    *,
    message: str = "",
    target=None,
    template: ReplyTemplate | None = None,
) -> Outcome:
    """Do the action on each dossier, one by one: each its own check and transaction."""
    outcome = Outcome(item.value)
    for dossier_id in ids[:MAX_SELECTION]:
        # Read afresh: a sync or a colleague may have changed it since the confirmation page.
        dossier = selection(user, [dossier_id]).first()
        if dossier is None:
            continue
        try:
            outgoing = _one(item, dossier, user, message=message, target=target, template=template)
        except (ActionNotAllowed, AssignmentRefused) as exc:
            outcome.refused.append((dossier.pk, str(exc)))
        except (DatabaseError, OSError):
            logger.exception("Action groupée « %s » sur le dossier %s", item.value, dossier.pk)
            outcome.refused.append((dossier.pk, PORTAL_ERROR))
        else:
            if outgoing is None:
                outcome.done.append(dossier.pk)
            else:
                outcome.queued.append((dossier.pk, outgoing.pk))
    return outcome


def _one(
    item: BulkAction,
    dossier: Dossier,
    user,
    *,
    message: str,
    target,
    template: ReplyTemplate | None = None,
) -> OutgoingEvent | None:
    if item.team == TAKE:
        if not assignment.take(dossier, user):
            raise AssignmentRefused(ALREADY_MINE)
        return None
    if item.team == ASSIGN:
        if target is None:
            raise AssignmentRefused("Choisissez l'agent à qui confier les dossiers.")
        if dossier.assigned_to_id == target.pk:
            raise AssignmentRefused(f"Déjà confié à {actions.author_name(target)}.")
        assignment.assign(dossier, target, user)
        return None
    action = actions.check(dossier, item.slug)  # closed, pending status push, backwards…
    if message_rule(dossier, action) != ABSENT:
        message = message_for(dossier, message, template)
    if message_rule(dossier, action) == REQUIRED and not message.strip():
        raise ActionNotAllowed(MESSAGE_NEEDED)
    outgoing = queue.perform(dossier, user, action, message=message)
    if action.slug == "prendre-en-charge" and dossier.demarche.take_assigns:
        # « Prendre en charge attribue le dossier » (démarche setting): a colleague who holds
        # it keeps it; the push is queued all the same.
        with contextlib.suppress(AssignmentRefused):
            assignment.take(dossier, user)
    return outgoing


@dataclass(frozen=True)
class Line:
    dossier: Dossier | None
    dossier_id: int
    text: str
    state: sends.SendState | None = None


@dataclass
class Summary:
    refused: list[Line] = field(default_factory=list)
    waiting: list[Line] = field(default_factory=list)
    sent: list[Line] = field(default_factory=list)
    done: list[Line] = field(default_factory=list)


def summary(user, stored: dict) -> Summary:
    """The outcome read back (three queries): a push HubEE refused since is listed with the
    refusals, with its French reason."""
    refused = [(int(pk), str(reason)) for pk, reason in stored.get("refused", [])]
    queued = [(int(pk), int(outgoing)) for pk, outgoing in stored.get("queued", [])]
    done = [int(pk) for pk in stored.get("done", [])]
    ids = [pk for pk, _ in refused] + [pk for pk, _ in queued] + done
    dossiers = {d.pk: d for d in selection(user, ids)} if ids else {}
    rows = OutgoingEvent.objects.filter(
        pk__in=[outgoing for _, outgoing in queued], dossier__in=list(dossiers)
    )
    outgoing_rows = {row.pk: row for row in rows}
    result = Summary()
    for pk, reason in refused:
        result.refused.append(Line(dossiers.get(pk), pk, reason))
    for pk, outgoing_pk in queued:
        row = outgoing_rows.get(outgoing_pk)
        dossier = dossiers.get(pk)
        if row is None or dossier is None:
            continue
        state = sends.state_of(row, dossier)
        line = Line(dossier, pk, state.detail, state)
        if state.key in (sends.REFUSED, sends.NOT_SENT):
            result.refused.append(line)
        elif state.key == sends.WAITING:
            result.waiting.append(line)
        else:
            result.sent.append(line)
    result.done = [Line(dossiers.get(pk), pk, "") for pk in done if pk in dossiers]
    return result


def announcement(result: Summary) -> str:
    """What the screen reader hears when the summary changes while it follows the sends."""

    def count(lines: list[Line], one: str, many: str) -> str:
        return f"{len(lines)} {one if len(lines) < 2 else many}"

    parts = [
        count(result.sent, "envoi transmis", "envois transmis"),
        count(result.waiting, "en attente", "en attente"),
        count(result.refused, "dossier non traité", "dossiers non traités"),
    ]
    return " ; ".join(parts) + "."
