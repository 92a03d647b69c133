"""Delivering the outbox: a dossier's pending pushes at once (an agent's action), or the due ones
of a démarche (the periodic run). Both under the démarche's lease, so that a sync never sends the
same push at the same time; the retry time lives on the rows (OutgoingEvent.next_attempt_at).

Each push is a row first, then a POST that is never repeated: before sending, the case's events
are searched for ours (a crash may have come between HubEE accepting it and our commit)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from demarches.hubee import ConfigurationError
from demarches.models import Demarche
from dossiers.enums import AttachmentState, OutgoingState, SendFailure
from dossiers.exchange import connection, lease
from dossiers.exchange.lease import LEASE_TTL, KeepAlive
from dossiers.exchange.outbound import deposit, push
from dossiers.exchange.outbound.failures import classify
from dossiers.exchange.outbound.push import UnfinishedAttemptError
from dossiers.exchange.outbound.queue import draft_for
from dossiers.models import Dossier, Evenement, OutgoingEvent
from dossiers.records import polls
from hubee_portal.hubee import (
    Case,
    Event,
    HubEEClient,
    PermanentError,
    Reason,
    find_matching_event,
)
from hubee_portal.hubee.vocabulary import LOCKED, ActionType, moves_forward

logger = logging.getLogger(__name__)

# Shown to agents beside a push held back by the démarche's configuration (ConfigurationError).
WAITING_FOR_CONFIGURATION = (
    "En attente : rien n'a été envoyé, la connexion de la démarche à HubEE est à compléter par "
    "un administrateur technique (secret client à saisir à nouveau). L'envoi partira tout seul "
    "ensuite."
)


@dataclass
class DeliveryOutcome:
    demarche: Demarche
    tried: int = 0  # dossiers whose due pushes were claimed and tried
    busy: bool = False  # another process held the démarche: nothing tried
    pending: int = 0  # pushes of the démarche still pending afterwards


def deliver_dossier(dossier_id: int) -> dict[str, Any]:
    """Read the case, then send the dossier's pending pushes now, whatever their backoff (an
    agent's action or retry). While a sync holds the démarche, they stay due: that run or the
    next periodic one sends them."""
    dossier = Dossier.objects.select_related("demarche__connection").filter(pk=dossier_id).first()
    if dossier is None:
        return {"dossier": dossier_id, "skipped": "deleted"}
    if not OutgoingEvent.objects.pending().filter(dossier=dossier).exists():
        return {"dossier": dossier_id, "sent": 0}
    # An agent acted: the citizen may answer soon, the démarche is polled every minute again.
    polls.mark_active(dossier.demarche_id)
    with lease.held(dossier.demarche_id, LEASE_TTL) as keeper:
        if keeper is None:
            return {"dossier": dossier_id, "busy": True}
        now = timezone.now()
        OutgoingEvent.objects.claim(dossier.pk, now, now + OutgoingEvent.settle(), due_only=False)
        _deliver(dossier)
    return {
        "dossier": dossier_id,
        "pending": OutgoingEvent.objects.pending().filter(dossier=dossier).count(),
    }


def due_pushes(now: datetime) -> QuerySet[OutgoingEvent]:
    """The pushes a periodic run sends now. A démarche's automatic statuses go out only once the
    dossier's files are stored: the sync sends them when it stores the files (a full disk must
    not tell HubEE « reçu »)."""
    waiting_for_files = (
        OutgoingEvent.objects.pending()
        .filter(automatic=True, dossier__pieces_jointes__state=AttachmentState.PENDING)
        .values("dossier_id")
    )
    return OutgoingEvent.objects.due(now).exclude(dossier_id__in=waiting_for_files)


def deliver_due(
    demarche: Demarche,
    *,
    client: HubEEClient | None = None,
    keeper: KeepAlive | None = None,
    now: datetime | None = None,
) -> DeliveryOutcome:
    """Try the démarche's due pushes, dossier by dossier. Each dossier is claimed by a
    conditional UPDATE (until the HTTP timeouts have passed: a delivery killed midway leaves
    them due exactly when a cut POST can no longer land). Takes the lease unless `keeper`
    says the caller holds it."""
    if keeper is None:
        with lease.held(demarche.pk, LEASE_TTL) as held:
            if held is None:
                return DeliveryOutcome(demarche, busy=True, pending=_pending(demarche))
            return _deliver_due(demarche, client, now, held)
    return _deliver_due(demarche, client, now, keeper)


def _deliver_due(
    demarche: Demarche, client: HubEEClient | None, now: datetime | None, keeper: KeepAlive
) -> DeliveryOutcome:
    now = now or timezone.now()
    outcome = DeliveryOutcome(demarche)
    if keeper.lost.is_set():
        # Another server holds the démarche now: it delivers; two never post at once.
        outcome.busy = True
        outcome.pending = _pending(demarche)
        return outcome
    ids = (
        due_pushes(now)
        .filter(dossier__demarche=demarche)
        .order_by("dossier_id")
        .values_list("dossier_id", flat=True)
        .distinct()
    )
    for dossier_id in list(ids):
        if keeper.lost.is_set():
            outcome.busy = True
            break
        # The claim lasts from now on: a delivery killed midway leaves it due once a cut POST
        # can no longer land, however long the earlier dossiers took.
        claimed_at = timezone.now()
        if not OutgoingEvent.objects.claim(
            dossier_id, now, claimed_at + OutgoingEvent.settle(), due_only=True
        ):
            continue  # taken meanwhile
        dossier = Dossier.objects.select_related("demarche__connection").get(pk=dossier_id)
        _deliver(dossier, client)
        outcome.tried += 1
    outcome.pending = _pending(demarche)
    return outcome


def _pending(demarche: Demarche) -> int:
    return OutgoingEvent.objects.pending().filter(dossier__demarche=demarche).count()


def _deliver(dossier: Dossier, client: HubEEClient | None = None) -> None:
    """Send the dossier's pending pushes; on failure, the rows say when to try again."""
    before = dict(
        OutgoingEvent.objects.pending().filter(dossier=dossier).values_list("pk", "attempts")
    )
    try:
        client = client or connection.client_for(dossier.demarche)
        case = client.get_case(str(dossier.hubee_case_id))
        send_pending(client, dossier, case)
    except ConfigurationError as exc:
        # Nothing left: no attempt is counted. Due again at once: once the démarche has its
        # secret (or allowed URLs) again and is enabled, its next run delivers them.
        logger.warning("outbox of dossier %s waits for its configuration: %s", dossier.pk, exc)
        OutgoingEvent.objects.pending().filter(pk__in=before).update(
            last_error=WAITING_FOR_CONFIGURATION,
            failure=SendFailure.CONFIGURATION,
            next_attempt_at=timezone.now(),
            updated_at=timezone.now(),
        )
    except UnfinishedAttemptError:
        # Not a failure: a cut-off POST may still land; try once it cannot any more.
        until = max(
            (
                o.unanswered_until()
                for o in OutgoingEvent.objects.filter(pk__in=before)
                if o.unanswered_until()
            ),
            default=timezone.now(),
        )
        OutgoingEvent.objects.pending().filter(pk__in=before).update(
            failure=SendFailure.UNFINISHED, updated_at=timezone.now()
        )
        OutgoingEvent.objects.reschedule(dossier.pk, until + timedelta(seconds=1))
    except Exception as exc:
        # The type only: HubEE's error text may echo the message written to the citizen.
        logger.warning("outbox of dossier %s: %s, will retry", dossier.pk, type(exc).__name__)
        OutgoingEvent.objects.record_failed_try(
            dossier.pk, before, exc, timezone.now(), classify(exc)
        )


def send_pending(client: HubEEClient, dossier: Dossier, case: Case) -> None:
    """Send the dossier's pending events in order. `case` is the case as just read."""
    pending = list(OutgoingEvent.objects.filter(dossier=dossier, state=OutgoingState.PENDING))
    if not pending:
        return
    case_events = case.events
    known = _claimed_event_ids(dossier, case_events)
    for outgoing in pending:
        if case.status in LOCKED and outgoing.post_unanswered_since is None:
            # Closed by the citizen's side: HubEE accepts no event any more. (An unanswered
            # POST may have landed before: that row goes through the search below.)
            if outgoing.automatic:
                # Nothing to tell the citizen any more; an agent's push stays, refused.
                logger.info("automatic push %s dropped: case %s", outgoing.pk, case.status)
                outgoing.delete()
            else:
                push.fail(outgoing, f"Case is {case.status}: not sent", SendFailure.CLOSED)
            continue
        if outgoing.action_type == ActionType.ATTACH_DEPOSIT:
            event = deposit.send_deposit(client, dossier, outgoing, case_events, known)
            if event is not None:
                push.record_or_fail(dossier, outgoing, event)
                known.add(event.id.lower())
            continue
        draft = draft_for(outgoing)
        # Already on HubEE? (a crash came between HubEE accepting it and our commit)
        event = find_matching_event(case_events, draft, client.config.application_name, known)
        if event is not None:
            logger.info("outgoing %s already on HubEE as event %s", outgoing.pk, event.id)
        else:
            dossier.refresh_from_db(fields=["status"])
            if outgoing.case_new_status and not moves_forward(
                dossier.status, outgoing.case_new_status
            ):
                push.skip(dossier, outgoing)
                continue
            push.before_post(outgoing)
            try:
                event = client.create_event(
                    str(dossier.hubee_case_id), draft, known_event_ids=known
                )
            except PermanentError as exc:
                if exc.reason in ANSWERED_UNREADABLE:
                    # A 2xx we cannot read: the event may be on HubEE. Searched for before
                    # any new POST, like an unanswered one.
                    push.after_post_error(outgoing, UnreadableAnswer(str(exc)))
                    raise
                push.fail(outgoing, str(exc), refusal_cause(client, dossier, exc))
                continue
            except Exception as exc:
                push.after_post_error(outgoing, exc)
                raise
        push.record_or_fail(dossier, outgoing, event)
        known.add(event.id.lower())


ANSWERED_UNREADABLE = (Reason.INVALID_RESPONSE, Reason.INVALID_PAYLOAD)


class UnreadableAnswer(Exception):
    """HubEE answered the POST with a body we cannot read: it may have created the event."""

    ambiguous = True


def refusal_cause(client: HubEEClient, dossier: Dossier, exc: PermanentError) -> str:
    """Why HubEE refused the event: a closed case is told by HubEE's text or, whatever the
    wording, by reading the case again."""
    cause = classify(exc)
    if cause != SendFailure.REFUSED:
        return cause
    try:
        case = client.get_case(str(dossier.hubee_case_id))
    except Exception:  # noqa: BLE001 - the refusal stands; only its cause is unknown
        return cause
    return SendFailure.CLOSED if case.status in LOCKED else cause


def _claimed_event_ids(dossier: Dossier, case_events: Sequence[Event]) -> set[str]:
    """Event ids never to take for one of this dossier's pushes: its events, those other rows
    of the outbox already claimed (a deposit in progress), and any event of the case as read
    that another dossier holds (a connection answering another démarche's ids)."""
    on_case = [event.id.lower() for event in case_events]
    mine_or_on_case = Q(dossier=dossier) | Q(hubee_event_id__in=on_case)
    known = {
        str(event_id)
        for event_id in Evenement.objects.filter(mine_or_on_case).values_list(
            "hubee_event_id", flat=True
        )
    }
    known.update(
        str(event_id)
        for event_id in OutgoingEvent.objects.filter(
            mine_or_on_case, hubee_event_id__isnull=False
        ).values_list("hubee_event_id", flat=True)
    )
    return known
