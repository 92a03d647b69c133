"""Events we send to HubEE. Each is a row first (outbox), then a POST that is never repeated:
before sending, the case's events are searched for ours (a crash may have come between HubEE
accepting it and our commit)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from demarches.enums import CaseStatus
from dossiers.enums import ActionType, Direction, EventStatus, OutgoingState
from dossiers.models import Dossier, Evenement, OutgoingEvent
from hubee_portal import APPLICATION_NAME
from hubee_portal.hubee import (
    HubEEClient,
    PermanentError,
    find_matching_event,
    parse_hubee_datetime,
)

logger = logging.getLogger(__name__)

AUTOMATIC_AUTHOR = f"{APPLICATION_NAME} (automatique)"

# API.md §6.2: statuses only move forward.
STATUS_RANK = {
    CaseStatus.HUBEE_RECEIVED: 0,
    CaseStatus.HUBEE_COMPLETED: 1,
    CaseStatus.HUBEE_NOTIFIED: 2,
    CaseStatus.SENT: 3,
    CaseStatus.SI_RECEIVED: 4,
    CaseStatus.IN_PROGRESS: 5,
    CaseStatus.ADD_AWAITING: 6,
    CaseStatus.REFUSED: 7,
    CaseStatus.DONE: 7,
}
FINAL = {CaseStatus.DONE, CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.ARCHIVED}


def moves_forward(current: str, new: str) -> bool:
    if current in FINAL or new not in STATUS_RANK:
        return False
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)


def queue_automatic_statuses(dossier: Dossier) -> list[OutgoingEvent]:
    """Queue the démarche's automatic status then its automatic final status, if any."""
    demarche = dossier.demarche
    queued = []
    for status in (demarche.automatic_status, demarche.automatic_final_status):
        if status:
            queued.append(
                OutgoingEvent.objects.create(
                    dossier=dossier,
                    action_type=ActionType.STATUS_UPDATE,
                    case_new_status=status,
                    author=AUTOMATIC_AUTHOR,
                    automatic=True,
                )
            )
    return queued


def payload_for(outgoing: OutgoingEvent) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "actionType": outgoing.action_type,
        "author": outgoing.author,
        "notification": True,
    }
    if outgoing.case_new_status:
        payload["caseNewStatus"] = outgoing.case_new_status
    if outgoing.message:
        payload["message"] = outgoing.message
    return payload


def send_pending(client: HubEEClient, dossier: Dossier, case_events: list[dict[str, Any]]) -> None:
    """Send the dossier's pending events in order. `case_events` is the case as just read."""
    known = {
        str(event_id)
        for event_id in Evenement.objects.filter(dossier=dossier).values_list(
            "hubee_event_id", flat=True
        )
    }
    for outgoing in OutgoingEvent.objects.filter(dossier=dossier, state=OutgoingState.PENDING):
        payload = payload_for(outgoing)
        # Already on HubEE? (a crash came between HubEE accepting it and our commit)
        event = find_matching_event(case_events, payload, client.config.application_name, known)
        if event is not None:
            logger.info("outgoing %s already on HubEE as event %s", outgoing.pk, event.get("id"))
        else:
            dossier.refresh_from_db(fields=["status"])
            if outgoing.case_new_status and not moves_forward(
                dossier.status, outgoing.case_new_status
            ):
                skip(dossier, outgoing)
                continue
            outgoing.attempts += 1
            outgoing.save(update_fields=["attempts", "updated_at"])
            try:
                event = client.create_event(
                    str(dossier.hubee_case_id), payload, known_event_ids=known
                )
            except PermanentError as exc:
                outgoing.state = OutgoingState.FAILED
                outgoing.last_error = str(exc)
                outgoing.save(update_fields=["state", "last_error", "updated_at"])
                logger.warning("outgoing %s refused by HubEE", outgoing.pk)
                continue
            except Exception as exc:
                outgoing.last_error = str(exc)
                outgoing.save(update_fields=["last_error", "updated_at"])
                raise
        record_sent(dossier, outgoing, event)
        known.add(str(event["id"]).lower())


def skip(dossier: Dossier, outgoing: OutgoingEvent) -> None:
    if outgoing.automatic:
        # The case is already there (re-sent case, an agent was quicker): nothing to send.
        outgoing.delete()
        return
    outgoing.state = OutgoingState.FAILED
    outgoing.last_error = (
        f"Le dossier est déjà au statut {dossier.get_status_display()} : "
        "un statut HubEE ne revient pas en arrière."
    )
    outgoing.save(update_fields=["state", "last_error", "updated_at"])


def record_sent(dossier: Dossier, outgoing: OutgoingEvent, event: dict[str, Any]) -> None:
    now = timezone.now()
    with transaction.atomic():
        outgoing.state = OutgoingState.SENT
        outgoing.hubee_event_id = event["id"]
        outgoing.sent_at = now
        outgoing.last_error = ""
        outgoing.save()
        Evenement.objects.update_or_create(
            hubee_event_id=event["id"],
            defaults={
                "dossier": dossier,
                "action_type": outgoing.action_type,
                "direction": Direction.SENT,
                "message": outgoing.message,
                "author": outgoing.author,
                "case_current_status": str(event.get("caseCurrentStatus") or dossier.status)[:20],
                "case_new_status": outgoing.case_new_status,
                "hubee_status": str(event.get("status") or EventStatus.SENT)[:12],
                "hubee_created_at": parse_hubee_datetime(event.get("createDateTime")) or now,
                "raw": event,
            },
        )
        if outgoing.case_new_status:
            Dossier.objects.filter(pk=dossier.pk).update(
                status=outgoing.case_new_status, updated_at=now
            )
