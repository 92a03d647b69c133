"""What the dossier page shows, read in a fixed number of queries whatever the dossier holds."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from demarches import attachment_types
from dossiers.enums import (
    OPENABLE_SCANS,
    ActionType,
    ActivityKind,
    AttachmentState,
    Direction,
    ScanState,
)
from dossiers.models import (
    Dossier,
    DossierActivity,
    DossierView,
    Evenement,
    OutgoingEvent,
    PieceJointe,
)
from dossiers.records import actions, assignment, explanations, sends
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
    status_label: str = ""  # the badge when it cannot be opened

    @property
    def type(self) -> attachment_types.AttachmentTypeName:
        """Its type in words; read in the attachments' query by ``build``."""
        return attachment_types.name_of_annotated(self.piece, self.piece.attachment_type)


CITIZEN, AGENT, STATUS, PORTAL = "citizen", "agent", "status", "portal"
TEAM, NOTE = "team", "note"  # among agents only: never sent to HubEE
CITIZEN_NAME = "L'usager (via l'opérateur de la démarche)"
OPERATOR_NAME = "L'opérateur de la démarche"


@dataclass
class TimelineEntry:
    """One line of the conversation: what the citizen, the operator, an agent or the portal did.
    `kind` sets its look: citizen messages and documents stand out, status changes are short."""

    at: datetime | None
    kind: str
    title: str
    who: str
    message: str = ""
    comment: str = ""
    status_change: tuple[str, str] | None = None
    pieces: list[PieceRow] = field(default_factory=list)
    acknowledged: bool = False
    send: sends.SendState | None = None
    outgoing: OutgoingEvent | None = None

    @property
    def short(self) -> bool:
        return self.kind in (STATUS, PORTAL, TEAM) and not self.message and not self.pieces


@dataclass
class Team:
    """Who is in charge, and whom the dossier can be handed to."""

    holder: object | None
    holder_name: str
    candidates: list

    def is_mine(self, user) -> bool:
        return self.holder is not None and self.holder.pk == user.pk

    def can_take(self, user) -> bool:
        return self.holder is None and any(agent.pk == user.pk for agent in self.candidates)


@dataclass
class DossierPage:
    dossier: Dossier
    pieces: list[PieceRow]
    timeline: list[TimelineEntry]
    actions: list[actions.Action]
    blocked_reason: str
    pending_status: OutgoingEvent | None
    team: Team | None = None

    @property
    def downloadable_count(self) -> int:
        return sum(1 for row in self.pieces if row.downloadable)

    @property
    def announcement(self) -> str:
        """The latest push and its state, said by a screen reader when it changes."""
        pushes = [entry for entry in self.timeline if entry.outgoing is not None]
        if not pushes:
            return ""
        latest = max(pushes, key=lambda entry: (entry.at is not None, entry.at))
        assert latest.send is not None
        return f"{latest.title} : {latest.send.label}."

    @property
    def waiting(self) -> bool:
        """A push is waiting to be sent: the page follows it (dossiers:follow)."""
        return any(entry.send is not None and entry.send.pending for entry in self.timeline)


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
    blocked = stored and piece.scan not in OPENABLE_SCANS
    # A quarantined file is not « missing »: the antivirus moved it.
    missing = (
        stored and piece.scan != ScanState.INFECTED and not os.path.isfile(root / piece.stored_path)
    )
    explanation = ""
    label = "Absente" if missing else piece.get_state_display()
    if blocked and not missing:
        explanation = explanations.scan_state(piece.scan, piece.scan_signature)
        label = piece.get_scan_display()
    elif missing:
        explanation = "Le fichier n'est plus sur le serveur : prévenez l'administrateur technique."
    elif piece.state == AttachmentState.CORRUPT:
        # From the state, not the stored text: rows written before it was French stay right.
        explanation = explanations.CORRUPT_DOWNLOAD
    elif piece.state == AttachmentState.FAILED:
        # The sync writes only texts of explanations there (too large, given up).
        explanation = piece.state_detail or explanations.DOWNLOAD_FAILED
    elif piece.state == AttachmentState.UNAVAILABLE:
        explanation = explanations.unavailable_file(piece.hubee_status)
    elif not stored:
        explanation = STATE_EXPLANATIONS.get(piece.state, "")
    return PieceRow(
        piece=piece,
        source=source,
        downloadable=stored and not missing and not blocked,
        missing=missing,
        explanation=explanation,
        is_xml=stored and not missing and not blocked and is_xml(piece),
        status_label=label,
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
        .order_by("created_at", "id")
    )
    timeline = conversation(dossier, events, outgoing, pieces, list(dossier.activities.all()))
    offered = actions.available(dossier, outgoing)
    pending = actions.pending_status_push(outgoing)
    blocked = ""
    if dossier.status in LOCKED:
        blocked = sends.locked_reason(dossier)
    elif pending is not None:
        blocked = (
            f"Le passage au statut « {label_of(pending.case_new_status)} » est en attente "
            "d'envoi à HubEE : les autres décisions seront possibles une fois qu'il sera transmis."
        )
    return DossierPage(
        dossier=dossier,
        pieces=pieces,
        timeline=timeline,
        actions=offered,
        blocked_reason=blocked,
        pending_status=pending,
        team=Team(
            holder=dossier.assigned_to,
            holder_name=actions.author_name(dossier.assigned_to) if dossier.assigned_to else "",
            candidates=list(assignment.candidates(dossier)),
        ),
    )


OLDEST = timezone.make_aware(datetime.min.replace(year=1900))


def _when(entry: TimelineEntry) -> datetime:
    return entry.at or OLDEST


def team_entry(activity: DossierActivity) -> TimelineEntry:
    """What the agents did among themselves, in the same thread, with its own look."""
    if activity.kind == ActivityKind.NOTE:
        return TimelineEntry(
            at=activity.at,
            kind=NOTE,
            title="Note interne (agents de la démarche ; jamais envoyée à HubEE)",
            who=activity.by_name or "Un agent",
            message=activity.text,
        )
    who = activity.by_name or "Le portail"
    titles = {
        ActivityKind.TAKEN: f"Pris en charge par {activity.to_name}",
        ActivityKind.ASSIGNED: f"Confié à {activity.to_name}",
        ActivityKind.RELEASED: "Libéré : plus personne n'en est responsable",
        ActivityKind.RELEASED_AUTO: (
            f"Libéré automatiquement ({activity.to_name} n'en est plus responsable). "
            f"{activity.text}"
        ),
    }
    return TimelineEntry(at=activity.at, kind=TEAM, title=titles[activity.kind], who=who)


def conversation(
    dossier: Dossier,
    events: list[Evenement],
    outgoing: list[OutgoingEvent],
    pieces: list[PieceRow],
    activities: list[DossierActivity],
) -> list[TimelineEntry]:
    """One timeline, oldest first: each of our pushes once (with its state), whether HubEE has
    it yet or not; what came from HubEE once; what the agents did among themselves."""
    timeline = [
        TimelineEntry(
            at=dossier.hubee_created_at or dossier.received_at,
            kind=CITIZEN,
            title="Dépôt du télédossier",
            who=CITIZEN_NAME,
            pieces=[row for row in pieces if row.piece.evenement_id is None],
        )
    ]
    pushed = {str(item.hubee_event_id): item for item in outgoing if item.hubee_event_id}
    sent_events = {}
    for event in events:
        item = pushed.get(str(event.hubee_event_id))
        if item is not None:
            sent_events[item.pk] = event
            continue
        timeline.append(_event_entry(event, pieces))
    for item in outgoing:
        timeline.append(_push_entry(dossier, item, sent_events.get(item.pk), pieces))
    timeline.extend(team_entry(activity) for activity in activities)
    timeline.sort(key=_when)
    return timeline


def _status_change(event: Evenement) -> tuple[str, str] | None:
    if not event.case_new_status:
        return None
    before = label_of(event.case_current_status) if event.case_current_status else ""
    return before, label_of(event.case_new_status)


def _event_entry(event: Evenement, pieces: list[PieceRow]) -> TimelineEntry:
    """An event read from HubEE: the citizen's (through the operator), or one we sent that the
    outbox no longer holds."""
    own = [row for row in pieces if row.piece.evenement_id == event.pk]
    incoming = event.direction == Direction.RECEIVED
    change = _status_change(event)
    if incoming:
        kind = STATUS if change and not event.message and not own else CITIZEN
        who = OPERATOR_NAME if kind == STATUS else CITIZEN_NAME
    else:
        kind = STATUS if change and not event.message and not own else AGENT
        who = event.author or "Le service"
    return TimelineEntry(
        at=event.hubee_created_at or event.created_at,
        kind=kind,
        title=event.get_action_label(),
        who=event.author if incoming and kind == STATUS and event.author else who,
        message=event.message,
        comment=event.comment,
        status_change=change,
        pieces=own,
        acknowledged=not incoming and event.hubee_status == EventStatus.RECEIVED,
        send=None if incoming else sends.SendState(sends.SENT, ""),
    )


def _push_entry(
    dossier: Dossier, item: OutgoingEvent, event: Evenement | None, pieces: list[PieceRow]
) -> TimelineEntry:
    agent = item.created_by
    who = (agent.get_full_name() or agent.get_username()) if agent else item.author
    change = None
    if item.case_new_status:
        change = ("", label_of(item.case_new_status))
        if event is not None:
            change = _status_change(event) or change
    kind = PORTAL if item.automatic else STATUS if change and not item.message else AGENT
    own = [row for row in pieces if event is not None and row.piece.evenement_id == event.pk]
    return TimelineEntry(
        at=item.created_at,
        kind=kind,
        title=outgoing_label(item),
        who="Le portail (automatique)" if item.automatic else who,
        message=item.message,
        comment=event.comment if event is not None else "",
        status_change=change,
        pieces=own,
        acknowledged=event is not None and event.hubee_status == EventStatus.RECEIVED,
        send=sends.state_of(item, dossier),
        outgoing=item,
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
        return f"Passage au statut « {label_of(item.case_new_status)} »"
    if item.action_type == ActionType.ATTACH_DEPOSIT:
        return "Envoi de documents à l'usager"
    if item.action_type == ActionType.SENDING_MESSAGE:
        return "Message à l'usager"
    return item.get_action_type_display()
