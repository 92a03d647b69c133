"""HubEE payloads in, rows out: a case becomes a Dossier, an event an Evenement, each
attachment a PieceJointe whose final path is reserved before any byte is written."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from demarches.models import Demarche
from dossiers.enums import CITIZEN_ACTIONS, AttachmentState, Direction
from dossiers.exchange.inbound.errors import (
    FOREIGN_CASE,
    FOREIGN_EVENT,
    OTHER_DOSSIER_EVENT,
    InvalidDataError,
)
from dossiers.exchange.outbound.queue import queue_automatic_statuses
from dossiers.models import Dossier, Evenement, PieceJointe
from dossiers.records import explanations, storage
from hubee_portal.hubee import Attachment, Case, Event
from hubee_portal.hubee.vocabulary import UNAVAILABLE_FILE, AttachmentStatus, CaseStatus

logger = logging.getLogger(__name__)


def note_citizen(evenement: Evenement) -> None:
    """Keep the dossier's `last_citizen_at` (the list's « nouveau message de l'usager »): the
    arrival of the citizen's latest message or documents."""
    if evenement.action_type not in CITIZEN_ACTIONS or evenement.direction != Direction.RECEIVED:
        return
    Dossier.objects.filter(pk=evenement.dossier_id).filter(
        Q(last_citizen_at__isnull=True) | Q(last_citizen_at__lt=evenement.created_at)
    ).update(last_citizen_at=evenement.created_at)


class Mapper:
    """Bound to one démarche and its download folder; keeps no per-case state (it runs on the
    sync's worker threads)."""

    def __init__(self, demarche: Demarche, root: Path) -> None:
        self.demarche = demarche
        self.root = root

    # -- ownership: HubEE ids are unique across the portal ------------------------------------

    def own_case(self, dossier: Dossier | None) -> Dossier | None:
        """The case's dossier if it is this démarche's; another démarche's is never touched."""
        if dossier is not None and dossier.demarche_id != self.demarche.pk:
            logger.warning(
                "démarche %s: case %s belongs to démarche %s, refused",
                self.demarche.pk,
                dossier.hubee_case_id,
                dossier.demarche_id,
            )
            raise InvalidDataError(FOREIGN_CASE)
        return dossier

    def own_event(self, evenement: Evenement | None, dossier: Dossier | None) -> None:
        """An event already stored elsewhere is never moved to `dossier` (None: a new case)."""
        if evenement is None or (dossier is not None and evenement.dossier_id == dossier.pk):
            return
        owner = evenement.dossier.demarche_id
        logger.warning(
            "démarche %s: event %s belongs to dossier %s of démarche %s, refused",
            self.demarche.pk,
            evenement.hubee_event_id,
            evenement.dossier_id,
            owner,
        )
        raise InvalidDataError(FOREIGN_EVENT if owner != self.demarche.pk else OTHER_DOSSIER_EVENT)

    # -- rows -----------------------------------------------------------------------------------

    def store_case(
        self, case_id: str, case: Case, known: Dossier | None = None
    ) -> tuple[Dossier, bool]:
        """Create or update the case's dossier; `known` is its row as read by the caller."""
        if case.id.lower() != case_id.lower():
            raise InvalidDataError(
                "HubEE a renvoyé un cas qui ne correspond pas à la notification."
            )
        applicant = case.applicant
        # An unknown status is left as it was (today's HubEE only sends the known ones).
        status = case.status if case.status in set(CaseStatus) else ""
        values = {
            "external_id": case.external_id[:64],
            "process_code": case.process_code[:30],
            "applicant_first_name": (applicant.first_name if applicant else "")[:255],
            "applicant_last_name": (applicant.last_name if applicant else "")[:255],
            "applicant_email": ((applicant.email if applicant else None) or "")[:320],
            "partner_attributes": case.partner_attributes or "",
            "hubee_created_at": case.create_date_time,
            "hubee_updated_at": case.update_date_time,
            "hubee_transmitted_at": case.transmission_date_time,
            "hubee_closed_at": case.close_date_time,
            # Events are stored as rows; keeping them in the raw case would grow it every sync.
            "raw": case.without_events(),
        }
        if known is not None:
            for name, value in values.items():
                setattr(known, name, value)
            if status:
                known.status = status
            known.save()
            return known, False
        try:
            return self.create_dossier(case_id, case.external_id, status, values), True
        except IntegrityError:
            # Another démarche's run stored the case since our read (each run holds its own
            # lease): the first one keeps it, the unique constraint says who.
            self.own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
            raise

    def create_dossier(
        self, case_id: str, external_id: str, status: str, values: dict[str, Any]
    ) -> Dossier:
        with transaction.atomic():
            # Only the names that could collide are read, not every folder of the démarche.
            base = storage.sanitize_component(external_id, case_id)
            taken = set(
                Dossier.objects.filter(
                    demarche=self.demarche, folder_name__startswith=base.rsplit(".", 1)[0]
                ).values_list("folder_name", flat=True)
            )
            folder_name = storage.unique_name(self.root, base, taken)
            dossier = Dossier.objects.create(
                demarche=self.demarche,
                hubee_case_id=case_id,
                folder_name=folder_name,
                status=status or CaseStatus.HUBEE_NOTIFIED,
                **values,
            )
            # Statuses go out only once the files are stored; queued now, in this transaction,
            # so that a crash cannot lose or repeat them.
            queue_automatic_statuses(dossier)
            return dossier

    def store_event(
        self,
        dossier: Dossier,
        event: Event,
        event_id: str,
        known: Evenement | None = None,
    ) -> Evenement:
        """Create or update the event's row; `known` is its row as read by the caller (checked
        to be this dossier's)."""
        if event.id.lower() != event_id.lower():
            raise InvalidDataError("HubEE a renvoyé un événement qui ne correspond pas.")
        values = {
            "action_type": (event.action_type or "")[:100],
            "direction": Direction.RECEIVED,
            "message": event.message or "",
            "comment": event.comment or "",
            "author": (event.author or "")[:255],
            "case_current_status": (event.case_current_status or "")[:20],
            "case_new_status": (event.case_new_status or "")[:20],
            "hubee_status": event.status[:12],
            "hubee_created_at": event.create_date_time,
            "hubee_updated_at": event.update_date_time,
            "raw": dict(event.raw),
        }
        if known is not None:
            self.own_event(known, dossier)
            for name, value in values.items():
                setattr(known, name, value)
            known.save()
            note_citizen(known)
            return known
        try:
            with transaction.atomic():
                stored = Evenement.objects.create(
                    dossier=dossier, hubee_event_id=event_id, **values
                )
                note_citizen(stored)
                return stored
        except IntegrityError:
            # Stored meanwhile by another démarche's run: it stays there.
            self.own_event(
                Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first(),
                dossier,
            )
            raise

    def store_attachments(
        self,
        dossier: Dossier,
        attachments: Iterable[Attachment],
        *,
        event: Evenement | None,
        new_dossier: bool = False,
    ) -> list[PieceJointe]:
        """Reserve one row and one final path per attachment before any byte is written.

        Returns the rows created. `new_dossier`: the dossier was created by this notification,
        so it has no rows yet.
        """
        folder = self.root / dossier.folder_name
        created: list[PieceJointe] = []
        with transaction.atomic():
            existing = {}
            if not new_dossier:
                existing = {
                    str(pj.hubee_attachment_id): pj
                    for pj in PieceJointe.objects.filter(dossier=dossier)
                }
            taken = {Path(pj.stored_path).name for pj in existing.values()}
            for attachment in attachments:
                attachment_id = attachment.id
                hubee_status = attachment.status
                piece = existing.get(attachment_id)
                if piece is not None:
                    if piece.hubee_status != hubee_status:
                        piece.hubee_status = hubee_status
                        if (
                            piece.state == AttachmentState.UNAVAILABLE
                            and hubee_status == AttachmentStatus.RECEIVED
                        ):
                            piece.state = AttachmentState.PENDING
                        piece.save(update_fields=["hubee_status", "state", "updated_at"])
                    continue
                name = storage.sanitize_component(attachment.file_name, "piece-jointe")
                name = storage.unique_name(folder, name, taken)
                taken.add(name)
                unavailable = hubee_status in UNAVAILABLE_FILE
                created.append(
                    PieceJointe(
                        dossier=dossier,
                        evenement=event,
                        hubee_attachment_id=attachment_id,
                        file_name=attachment.file_name[:1000],
                        stored_path=f"{dossier.folder_name}/{name}",
                        attachment_type=attachment.type[:100],
                        mime_type=attachment.mime_type[:255],
                        size=attachment.size if attachment.size >= 0 else None,
                        hubee_status=hubee_status,
                        state=(
                            AttachmentState.UNAVAILABLE if unavailable else AttachmentState.PENDING
                        ),
                        state_detail=_unavailable_reason(hubee_status) if unavailable else "",
                    )
                )
            # One INSERT for all (the primary keys come back: SQLite ≥ 3.35, PostgreSQL).
            PieceJointe.objects.bulk_create(created)
        return created


def _unavailable_reason(hubee_status: str) -> str:
    return explanations.unavailable_file(hubee_status)
