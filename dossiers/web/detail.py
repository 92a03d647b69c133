"""What the dossier page shows, read in a fixed number of queries whatever the dossier holds."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from demarches import attachment_types
from dossiers.enums import ActionType, AttachmentState, Direction
from dossiers.models import Dossier, DossierView, Evenement, OutgoingEvent, PieceJointe
from dossiers.records import actions
from hubee_portal.hubee.vocabulary import LOCKED, EventStatus, label_of

STATE_EXPLANATIONS = {
    AttachmentState.PENDING: (
        "Pas encore téléchargée depuis HubEE : elle le sera à la prochaine synchronisation."
    ),
    AttachmentState.CORRUPT: (
        "Le fichier reçu ne correspondait pas à sa taille ou à son empreinte annoncées : "
        "il sera téléchargé de nouveau à la prochaine synchronisation."
    ),
    AttachmentState.UNAVAILABLE: "Indisponible sur HubEE.",
}
XML_TYPES = ("application/xml", "text/xml")


@dataclass
class PieceRow:
    piece: PieceJointe
    source: str
    downloadable: bool
    missing: bool
    explanation: str
    is_xml: bool

    @property
    def type(self) -> attachment_types.AttachmentTypeName:
        """Its type in words; read in the attachments' query by ``build``."""
        return attachment_types.name_of_annotated(self.piece, self.piece.attachment_type)


@dataclass
class TimelineEntry:
    at: datetime | None
    incoming: bool
    title: str
    author: str
    agent: str = ""
    message: str = ""
    comment: str = ""
    status_change: tuple[str, str] | None = None
    pieces: list[PieceRow] = field(default_factory=list)
    acknowledged: bool = False


@dataclass
class DossierPage:
    dossier: Dossier
    pieces: list[PieceRow]
    timeline: list[TimelineEntry]
    history: list[tuple[datetime | None, str, str]]
    outgoing: list[tuple[OutgoingEvent, str]]
    actions: list[actions.Action]
    blocked_reason: str
    pending_status: OutgoingEvent | None

    @property
    def downloadable_count(self) -> int:
        return sum(1 for row in self.pieces if row.downloadable)


def is_xml(piece: PieceJointe) -> bool:
    mime = (piece.mime_type or "").split(";")[0].strip().lower()
    return mime in XML_TYPES or mime.endswith("+xml") or piece.file_name.lower().endswith(".xml")


def _piece_row(piece: PieceJointe, root: Path, events: dict[int, Evenement]) -> PieceRow:
    event = events.get(piece.evenement_id) if piece.evenement_id else None
    if event is None:
        source = "Dépôt initial"
    elif event.direction == Direction.SENT:
        source = "Envoyée à l'usager"
    else:
        source = "Complément de l'usager"
    stored = piece.state == AttachmentState.STORED
    missing = stored and not os.path.isfile(root / piece.stored_path)
    explanation = ""
    if missing:
        explanation = "Le fichier n'est plus sur le serveur : prévenez l'administrateur."
    elif not stored:
        explanation = piece.state_detail or STATE_EXPLANATIONS.get(piece.state, "")
    return PieceRow(
        piece=piece,
        source=source,
        downloadable=stored and not missing,
        missing=missing,
        explanation=explanation,
        is_xml=stored and not missing and is_xml(piece),
    )


def piece_row_in(piece: PieceJointe, root: Path) -> PieceRow:
    """Whether an attachment can be downloaded, without reading its event."""
    return _piece_row(piece, root, {})


def piece_row(piece: PieceJointe) -> PieceRow:
    """One attachment's row on its own (its event, if any, read with it)."""
    events = {piece.evenement_id: piece.evenement} if piece.evenement_id else {}
    return _piece_row(piece, Path(piece.dossier.demarche.download_folder), events)


def build(dossier: Dossier) -> DossierPage:
    root = Path(dossier.demarche.download_folder)
    events = list(Evenement.objects.filter(dossier=dossier))
    by_id = {event.pk: event for event in events}
    # The type labels come inside the attachments' query: no query per row, none more per page.
    files = PieceJointe.objects.filter(dossier=dossier).annotate(
        **attachment_types.label_annotations("attachment_type")
    )
    pieces = [_piece_row(piece, root, by_id) for piece in files]
    outgoing = list(
        OutgoingEvent.objects.filter(dossier=dossier)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    agents = {str(item.hubee_event_id): item.created_by for item in outgoing if item.hubee_event_id}
    timeline = [
        TimelineEntry(
            at=dossier.hubee_created_at or dossier.received_at,
            incoming=True,
            title="Dépôt du télédossier",
            author="Usager (via l'opérateur de la démarche)",
            pieces=[row for row in pieces if row.piece.evenement_id is None],
        )
    ]
    history: list[tuple[datetime | None, str, str]] = []
    for event in events:
        incoming = event.direction == Direction.RECEIVED
        agent = agents.get(str(event.hubee_event_id))
        change = None
        if event.case_new_status:
            change = (
                label_of(event.case_current_status) if event.case_current_status else "",
                label_of(event.case_new_status),
            )
            history.append((event.hubee_created_at, change[1], event.author))
        timeline.append(
            TimelineEntry(
                at=event.hubee_created_at or event.created_at,
                incoming=incoming,
                title=event.get_action_label(),
                author=event.author,
                agent=(agent.get_full_name() or agent.get_username()) if agent else "",
                message=event.message,
                comment=event.comment,
                status_change=change,
                pieces=[row for row in pieces if row.piece.evenement_id == event.pk],
                acknowledged=not incoming and event.hubee_status == EventStatus.RECEIVED,
            )
        )
    oldest = timezone.make_aware(datetime.min.replace(year=1900))
    timeline.sort(key=lambda entry: entry.at or oldest)
    offered = actions.available(dossier, outgoing)
    pending = actions.pending_status_push(outgoing)
    blocked = ""
    if dossier.status in LOCKED:
        blocked = "Le dossier est clos sur HubEE : plus aucune action n'est possible."
    elif pending is not None:
        blocked = "Un changement de statut est en cours d'envoi à HubEE."
    return DossierPage(
        dossier=dossier,
        pieces=pieces,
        timeline=timeline,
        history=history,
        outgoing=[(item, outgoing_label(item)) for item in outgoing],
        actions=offered,
        blocked_reason=blocked,
        pending_status=pending,
    )


def mark_viewed(dossier: Dossier, user) -> None:
    now = timezone.now()
    # One UPDATE on every later visit; the row is created on the first one only.
    if not DossierView.objects.filter(user=user, dossier=dossier).update(viewed_at=now):
        DossierView.objects.update_or_create(
            user=user, dossier=dossier, defaults={"viewed_at": now}
        )


def outgoing_label(item: OutgoingEvent) -> str:
    if item.action_type == ActionType.STATUS_UPDATE:
        return f"Statut « {label_of(item.case_new_status)} »"
    if item.action_type == ActionType.ATTACH_DEPOSIT:
        return "Renvoi de documents"
    if item.action_type == ActionType.SENDING_MESSAGE:
        return "Message à l'usager"
    return item.get_action_type_display()
