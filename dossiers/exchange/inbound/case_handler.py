"""One notification: the case or event it names read from HubEE, checked to be this
démarche's, stored with its files, acknowledged, and only then the notification deleted."""

from __future__ import annotations

from django.utils import timezone

from dossiers.enums import AttachmentState
from dossiers.exchange.inbound.errors import InvalidDataError
from dossiers.exchange.inbound.files import FileFetcher
from dossiers.exchange.inbound.journal import RunJournal, SyncContext
from dossiers.exchange.inbound.mapping import Mapper
from dossiers.exchange.outbound.delivery import send_pending
from dossiers.models import Dossier, Evenement
from hubee_portal.hubee import Notification, is_uuid
from hubee_portal.hubee.vocabulary import ActionType, CaseStatus, EventStatus


class CaseHandler:
    """Shared by the sync's worker threads: keeps no per-case state. Calls go through its
    mapper and fetcher at call time (tests patch their methods on the class)."""

    def __init__(
        self, context: SyncContext, mapper: Mapper, files: FileFetcher, journal: RunJournal
    ) -> None:
        self.context = context
        self.mapper = mapper
        self.files = files
        self.journal = journal

    def handle(self, notification: Notification) -> None:
        if not notification.case_id or not is_uuid(notification.case_id):
            raise InvalidDataError("Notification sans identifiant de cas (caseId).")
        if notification.is_new_case:
            self.ingest_case(notification.case_id)
        elif (notification.event_status or "").upper() == EventStatus.RECEIVED:
            self.record_acknowledgement(notification.case_id, notification.event_id)
        else:
            self.ingest_event(notification.case_id, notification.event_id)
        # Before the deletion: once HubEE has deleted it, no later run sees this notification
        # again to close its journal entry (an error in between reopens it).
        self.journal.resolve(notification)
        self.context.client.delete_notification(notification.id)

    def ingest_case(self, case_id: str) -> Dossier:
        # Read once, before the call: only this thread handles this case in this run, and the
        # lease keeps other runs away (another démarche's run: see store_case).
        known = self.mapper.own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        if known is not None and known.purged_at is not None:
            # Its retention period is over: never bring personal data or files back.
            return known
        case = self.context.client.get_case(case_id)
        dossier, created = self.mapper.store_case(case_id, case, known)
        if created:
            self.context.counters.add(dossiers_created=1)
        pieces = self.mapper.store_attachments(
            dossier, case.attachments, event=None, new_dossier=created
        )
        # A new dossier's rows are the ones just made: no need to read them back.
        pending = [p for p in pieces if p.state == AttachmentState.PENDING] if created else None
        self.files.download_pending(dossier, event=None, pieces=pending)
        # Only this démarche's dossier goes out through this démarche's connection.
        self.mapper.own_case(dossier)
        send_pending(self.context.client, dossier, case)
        return dossier

    def ingest_event(self, case_id: str, event_id: str | None) -> None:
        if not event_id or not is_uuid(event_id):
            raise InvalidDataError("Notification d'événement sans identifiant valide.")
        # Read once, before the call, like ingest_case.
        dossier = self.mapper.own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        known = Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first()
        self.mapper.own_event(known, dossier)
        event = self.context.client.get_event(case_id, event_id)
        if dossier is None:
            # An event on a case we never stored (its first notification was lost or purged).
            dossier = self.ingest_case(case_id)
        if dossier.purged_at is not None:
            self.context.client.patch_event(case_id, event_id, EventStatus.RECEIVED)
            return
        evenement = self.mapper.store_event(dossier, event, event_id, known)
        if evenement.action_type == ActionType.ATTACH_DEPOSIT:
            self.mapper.store_attachments(dossier, event.attachments, event=evenement)
            self.files.download_pending(dossier, event=evenement)
        # Any event may move the case (a complement comes back as ATTACH_DEPOSIT with
        # HUBEE_NOTIFIED, API.md §9.2), not only STATUS_UPDATE.
        if evenement.case_new_status in set(CaseStatus):
            Dossier.objects.filter(pk=dossier.pk).update(
                status=evenement.case_new_status, updated_at=timezone.now()
            )
        if event.status.upper() != EventStatus.RECEIVED:
            self.context.client.patch_event(case_id, event_id, EventStatus.RECEIVED)
            Evenement.objects.filter(pk=evenement.pk).update(hubee_status=EventStatus.RECEIVED)

    def record_acknowledgement(self, case_id: str, event_id: str | None) -> None:
        if not event_id or not is_uuid(event_id):
            return
        if Evenement.objects.filter(
            hubee_event_id=event_id,
            dossier__demarche_id=self.context.demarche.pk,
            dossier__hubee_case_id=case_id,
        ).update(hubee_status=EventStatus.RECEIVED, updated_at=timezone.now()):
            return
        # Not ours: an unknown event is nothing to record, another démarche's is refused.
        self.mapper.own_case(Dossier.objects.filter(hubee_case_id=case_id).first())
        evenement = (
            Evenement.objects.select_related("dossier").filter(hubee_event_id=event_id).first()
        )
        if evenement is not None and evenement.dossier.demarche_id != self.context.demarche.pk:
            self.mapper.own_event(evenement, None)
