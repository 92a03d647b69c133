"""The OSL side of the sandbox and its controls, as plain functions.

Used by tests, the staff pages and the demo data: deposit télédossiers, act as the operator or
the citizen on a case, purge (one case, or HubEE's retention rules on an adjustable clock),
switch faults, and read the call log. Errors meant for people are
`SandboxError`s with French messages.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from . import content, faults, storage, workflow
from .enums import ActionType, AttachmentStatus, CaseStatus, EventStatus, Party
from .models import (
    Attachment,
    CallLog,
    Case,
    Event,
    FaultSettings,
    Notification,
    StatusChange,
    Subscription,
    Token,
)
from .serializers import case_json

FileContent = bytes | str | os.PathLike[str] | IO[bytes]
# (fileName, type, mimeType, content) or the same with a 5th item: the attachment status.
FileSpec = tuple[str, str, str, FileContent] | tuple[str, str, str, FileContent, str]

# Short démarche labels of the HubEE portal (API.md §10): externalId is 30 characters at most,
# too few for "DILA-recensementCitoyen-0000000000001-01".
PROCESS_LABELS = {
    "EtatCivil": "AEC",
    "recensementCitoyen": "RCO",
    "depotDossierPACS": "DDPACS",
    "JeChangeDeCoordonnees": "JCC",
    "HebergementTourisme": "DHTOUR",
}
# The démarches' names, as the portal and the HubEE FAQ call them (API.md §10).
PROCESS_NAMES = {
    "EtatCivil": "Demande d'acte d'état civil (AEC)",
    "recensementCitoyen": "Recensement citoyen obligatoire (RCO)",
    "depotDossierPACS": "Dépôt de dossier de PACS (DDPACS)",
    "JeChangeDeCoordonnees": "Changement de coordonnées (JCC)",
    "CERTDC": "Certificat de décès électronique (CertDC)",
}
# Operator codes that start externalIds (API.md §4.3: `DGS-CERTDC-…`); DILA otherwise.
OSL_CODES = {"CERTDC": "DGS"}
MAX_EXTERNAL_ID = 30  # HubEE's contract: what the sandbox generates
MAX_GIVEN_EXTERNAL_ID = 64  # what a caller may force, to test a client beyond the contract
DEFAULT_APPLICANT = {"first_name": "Camille", "last_name": "MARTIN", "email": None}
OSL_AUTHOR = "Opérateur (bac à sable)"
CITIZEN_AUTHOR = "Usager (bac à sable)"
FAULT_FIELDS = (
    "seed",
    "latency_ms",
    "connection_latency_ms",
    "error_rate",
    "token_lifetime",
    "truncate_downloads",
    "wrong_digest",
    "drop_response_after_post",
    "throttle_rate",
    "throttle_retry_after",
    "faults_per_resource",
)
RETENTION_FIELDS = (
    "status_before_file_deletion",
    "time_before_file_deletion",
    "time_before_archiving",
    "time_before_folder_deletion",
)


class SandboxError(ValueError):
    """An OSL-side action the sandbox refuses; the message is for people (French)."""


# -- subscriptions -----------------------------------------------------------------------------


def create_subscription(
    process_code: str, client_id: str, client_secret: str, **rules: Any
) -> Subscription:
    """A démarche subscription with its credentials.

    `rules`: allows_messages, allows_add_awaiting, allows_document_return, and optionally name,
    si_siret, si_branch_code, osl_code, osl_siret, osl_branch_code and the retention settings
    (RETENTION_FIELDS).
    """
    if not process_code or not client_id or not client_secret:
        raise SandboxError("Le code de démarche, l'identifiant et le secret sont obligatoires.")
    rules.setdefault("osl_code", OSL_CODES.get(process_code, "DILA"))
    subscription = Subscription(
        process_code=process_code, client_id=client_id, client_secret=client_secret, **rules
    )
    subscription.full_clean()
    subscription.save()
    return subscription


def expire_tokens(subscription: Subscription | None = None) -> int:
    """Expire the tokens already issued (all, or one subscription's); returns how many."""
    tokens = Token.objects.filter(expires_at__gt=timezone.now())
    if subscription is not None:
        tokens = tokens.filter(subscription=subscription)
    return tokens.update(expires_at=timezone.now())


# -- deposits ----------------------------------------------------------------------------------


def next_external_id(subscription: Subscription) -> str:
    """`<OSL>-<démarche>-<13 digits>-01`, shortened to HubEE's 30 characters."""
    number = subscription.cases.count() + 1
    while True:
        suffix = f"-{number:013d}-01"
        label = PROCESS_LABELS.get(subscription.process_code, subscription.process_code)
        prefix = f"{subscription.osl_code}-{label}"[: MAX_EXTERNAL_ID - len(suffix)]
        external_id = prefix + suffix
        if not subscription.cases.filter(external_id=external_id).exists():
            return external_id
        number += 1


def _applicant(applicant: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(DEFAULT_APPLICANT)
    for key, value in (applicant or {}).items():
        name = {"firstName": "first_name", "lastName": "last_name"}.get(key, key)
        if name not in values:
            raise SandboxError(f"Champ de demandeur inconnu : {key}.")
        values[name] = value
    if not values["first_name"] or not values["last_name"]:
        raise SandboxError("Le prénom et le nom du demandeur sont obligatoires.")
    return values


@dataclass
class _StoredFile:
    id: uuid.UUID
    file_name: str
    type: str
    mime_type: str
    size: int
    sha256: str
    status: str


def _store_files(files: Sequence[FileSpec], default_status: str) -> list[_StoredFile]:
    """Write the contents first (outside any transaction: they may be big)."""
    if not files:
        raise SandboxError("Un dépôt contient au moins un fichier.")
    stored: list[_StoredFile] = []
    try:
        for spec in files:
            if len(spec) not in (4, 5):
                raise SandboxError("Chaque fichier : (nom, type, type MIME, contenu[, statut]).")
            file_name, kind, mime_type, content = spec[:4]
            status = spec[4] if len(spec) == 5 else default_status
            if status not in AttachmentStatus.values:
                raise SandboxError(f"Statut de pièce jointe inconnu : {status}.")
            attachment_id = uuid.uuid4()
            size, sha256 = storage.store(attachment_id, content)
            stored.append(
                _StoredFile(attachment_id, file_name, kind, mime_type, size, sha256, status)
            )
    except BaseException:
        _discard(stored)
        raise
    return stored


def _discard(stored: Iterable[_StoredFile]) -> None:
    for item in stored:
        storage.delete(item.id)


def _create_attachments(
    stored: Sequence[_StoredFile], *, case: Case | None = None, event: Event | None = None
) -> None:
    for position, item in enumerate(stored, start=1):
        Attachment.objects.create(
            id=item.id,
            case=case,
            event=event,
            position=position,
            file_name=item.file_name,
            type=item.type,
            mime_type=item.mime_type,
            size=item.size,
            sha256=item.sha256,
            status=item.status,
        )
        if item.status == AttachmentStatus.DELETED:
            storage.delete(item.id)


def deposit_case(
    subscription: Subscription,
    *,
    external_id: str | None = None,
    applicant: Mapping[str, Any] | None = None,
    files: Sequence[FileSpec] = (),
    attachment_status: str = AttachmentStatus.RECEIVED,
    attachment_statuses: Sequence[str] | None = None,
    partner_attributes: str | None = None,
) -> Case:
    """A télédossier the OSL completed: case HUBEE_NOTIFIED, its files, one SI notification.

    `applicant`: first_name/last_name/email (or HubEE's firstName/lastName/email).
    `attachment_statuses`: one status per file, instead of `attachment_status` for all.
    """
    person = _applicant(applicant)
    if attachment_statuses is not None:
        if len(attachment_statuses) != len(files):
            raise SandboxError("Indiquez un statut par fichier.")
        files = [
            (*spec[:4], status) for spec, status in zip(files, attachment_statuses, strict=True)
        ]
    if external_id is not None and not 0 < len(external_id) <= MAX_GIVEN_EXTERNAL_ID:
        raise SandboxError(
            f"Le numéro de télédossier fait au plus {MAX_GIVEN_EXTERNAL_ID} caractères."
        )
    stored = _store_files(files, attachment_status)
    try:
        with transaction.atomic():
            now = timezone.now()
            case = Case.objects.create(
                subscription=subscription,
                external_id=external_id or next_external_id(subscription),
                status=CaseStatus.HUBEE_NOTIFIED,
                applicant_first_name=person["first_name"],
                applicant_last_name=person["last_name"],
                applicant_email=person["email"] or "",
                partner_attributes=partner_attributes or "",
                create_date_time=now,
                transmission_date_time=now,
            )
            _create_attachments(stored, case=case)
            StatusChange.objects.create(case=case, status=case.status, at=now)
            workflow.notify(case, Party.SI)
    except BaseException:
        _discard(stored)
        raise
    return case


def generated_applicant(seed: int) -> content.Applicant:
    """The fictitious applicant of a generated deposit (same seed, same person)."""
    return content.random_applicant(random.Random(seed))  # noqa: S311 - test data


def deposit_generated_case(
    subscription: Subscription,
    *,
    seed: int,
    applicant: Mapping[str, Any] | None = None,
    files: Sequence[FileSpec] = (),
) -> Case:
    """A télédossier with realistic content: the applicant of `seed` (first_name, last_name
    and email may be overridden) and, unless `files` are given, the files a real deposit of the
    démarche carries (content.generate_files), naming that applicant and the case number."""
    rng = random.Random(seed)  # noqa: S311 - test data
    person = content.random_applicant(rng)
    values = _applicant({**_person(person), **dict(applicant or {})})
    person = replace(
        person,
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"] or None,
    )
    external_id = next_external_id(subscription)
    if not files:
        generated = content.generate_files(
            subscription.process_code,
            person,
            external_id,
            rng,
            submitted_at=timezone.localtime(),
        )
        files = [(f.file_name, f.type, f.mime_type, f.content) for f in generated]
    return deposit_case(
        subscription, external_id=external_id, applicant=_person(person), files=files
    )


def _person(person: content.Applicant) -> dict[str, Any]:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
    }


def complement_file(case: Case, kind: str = content.GENERIC_TYPE) -> FileSpec:
    """A readable PDF the citizen adds to the case (for ATTACH_DEPOSIT without uploads)."""
    number = Attachment.objects.filter(event__case_id=case.pk).count() + 1
    now = timezone.localtime()
    lines = [
        f"Télédossier : {case.external_id}",
        f"Demandeur : {case.applicant_first_name} {case.applicant_last_name}",
        f"Pièce complémentaire n° {number}, déposée le {now:%d/%m/%Y à %H:%M}.",
        "",
        "Document fictif produit par le bac à sable HubEE : données inventées.",
    ]
    pdf = content.make_pdf("Pièce complémentaire", lines)
    return (f"complement-{number}.pdf", kind, content.PDF_MIME, pdf)


# -- OSL actions on a case ---------------------------------------------------------------------


def _live(case: Case) -> Case:
    case = Case.objects.select_related("subscription").get(pk=case.pk)
    if case.purged:
        raise SandboxError("Ce télédossier a été purgé.")
    return case


def _osl_event(case: Case, data: workflow.EventInput) -> Event:
    try:
        return workflow.create_event(case, Party.OSL, data)
    except workflow.RuleError as error:
        raise SandboxError(_french(error.message)) from error


def _french(message: str) -> str:
    if message.startswith("Messages are not allowed"):
        return "Cette démarche n'autorise pas les messages."
    return f"HubEE refuserait cette action : {message}"


def osl_attach_deposit(
    case: Case,
    files: Sequence[FileSpec],
    *,
    author: str = CITIZEN_AUTHOR,
    message: str | None = None,
    notification: bool = True,
    case_new_status: str | None = None,
) -> Event:
    """Extra documents from the citizen: an ATTACH_DEPOSIT published at once (+ notification).

    `case_new_status` (e.g. HUBEE_NOTIFIED) answers an ADD_AWAITING, as HubEE's loop does.
    """
    case = _live(case)
    stored = _store_files(files, AttachmentStatus.RECEIVED)
    try:
        with transaction.atomic():
            specs = [
                workflow.AttachmentSpec(s.file_name, s.type, s.mime_type, s.size) for s in stored
            ]
            event = _osl_event(
                case,
                workflow.EventInput(
                    action_type=ActionType.ATTACH_DEPOSIT,
                    notification=notification,
                    message=message,
                    author=author,
                    case_new_status=case_new_status,
                    attachments=specs,
                ),
            )
            # Replace the PENDING rows create_event made by the stored files.
            event.attachments.all().delete()
            _create_attachments(stored, event=event)
            if all(s.status == AttachmentStatus.RECEIVED for s in stored):
                workflow.publish_deposit(event, Party.OSL)
            else:
                event.status = EventStatus.SENT
                event.save(update_fields=["status"])
                if notification:
                    workflow.notify(case, Party.SI, event)
    except BaseException:
        _discard(stored)
        raise
    return event


def osl_message(
    case: Case, text: str, *, author: str = OSL_AUTHOR, notification: bool = True
) -> Event:
    """A SENDING_MESSAGE from the operator (refused if the démarche has no messages)."""
    if not text or not text.strip():
        raise SandboxError("Le message est vide.")
    with transaction.atomic():
        return _osl_event(
            _live(case),
            workflow.EventInput(
                action_type=ActionType.SENDING_MESSAGE,
                notification=notification,
                message=text,
                author=author,
            ),
        )


def osl_close(case: Case, *, author: str = OSL_AUTHOR, message: str | None = None) -> Event:
    """The operator closes the case: STATUS_UPDATE to CLOSED (+ SI notification)."""
    with transaction.atomic():
        case = _live(case)
        if case.status in workflow.LOCKED_STATUSES:
            raise SandboxError("Ce télédossier est déjà clos.")
        return _osl_event(
            case,
            workflow.EventInput(
                action_type=ActionType.STATUS_UPDATE,
                notification=True,
                message=message,
                author=author,
                case_new_status=CaseStatus.CLOSED,
            ),
        )


def osl_acknowledge(event: Event) -> None:
    """The operator marks an SI event RECEIVED; the SI is notified (eventStatus RECEIVED)."""
    with transaction.atomic():
        event = Event.objects.select_related("case__subscription").get(pk=event.pk)
        _live(event.case)
        try:
            workflow.acknowledge(event, Party.OSL)
        except workflow.RuleError as error:
            raise SandboxError(_french(error.message)) from error


def purge_case(case: Case) -> None:
    """HubEE's purge: the case answers 404 everywhere and its binaries are deleted."""
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(purged=True)
        deleted = _mark_deleted(_all_attachments(case))
    _remove_binaries(deleted)
    case.purged = True


def _all_attachments(case: Case) -> Any:
    return Attachment.objects.filter(case_id=case.pk) | Attachment.objects.filter(
        event__case_id=case.pk
    )


def _mark_deleted(attachments: Any) -> list[uuid.UUID]:
    """Mark the attachments DELETED (call in a transaction); their ids."""
    ids = list(attachments.exclude(status=AttachmentStatus.DELETED).values_list("id", flat=True))
    Attachment.objects.filter(id__in=ids).update(status=AttachmentStatus.DELETED)
    return ids


def _remove_binaries(ids: Iterable[uuid.UUID]) -> None:
    # After the transaction: a rollback must not leave a RECEIVED file without its content.
    for attachment_id in ids:
        storage.delete(attachment_id)


def set_attachments_status(case: Case, status: str) -> int:
    """Set the status of the case's initial files (e.g. PENDING -> RECEIVED once "uploaded")."""
    if status not in AttachmentStatus.values:
        raise SandboxError(f"Statut de pièce jointe inconnu : {status}.")
    return Attachment.objects.filter(case_id=case.pk).update(status=status)


def drop_si_notifications(subscription: Subscription) -> int:
    """Delete the SI's waiting notifications, as if they had been lost; returns how many."""
    deleted, _ = Notification.objects.filter(
        subscription=subscription, recipient_type=Party.SI
    ).delete()
    return deleted


# -- HubEE's retention rules (API.md §9.4) ----------------------------------------------------

# "Reaching" statusBeforeFileDeletion includes going past it: HubEE accepts forward skips
# (API.md §6.2), and a case taken straight to IN_PROGRESS has left SI_RECEIVED behind (GUESS).
PURGE_ORDER: dict[str, int] = {
    **workflow.STATUS_ORDER,
    CaseStatus.CLOSED: 8,
    CaseStatus.ARCHIVED: 9,
}


@dataclass(frozen=True)
class PurgeResult:
    now: datetime
    files_deleted: int = 0
    cases_archived: int = 0
    cases_deleted: int = 0

    def summary(self) -> str:
        return (
            f"Purge de HubEE passée comme le {timezone.localtime(self.now):%d/%m/%Y à %H:%M} : "
            f"{self.files_deleted} fichier(s) supprimé(s), {self.cases_archived} télédossier(s) "
            f"archivé(s), {self.cases_deleted} télédossier(s) supprimé(s)."
        )


def set_retention(subscription: Subscription, **values: Any) -> Subscription:
    """Change a démarche's retention settings (RETENTION_FIELDS)."""
    unknown = set(values) - set(RETENTION_FIELDS)
    if unknown:
        raise SandboxError(f"Réglages de conservation inconnus : {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.full_clean()
    subscription.save(update_fields=[*values, "updated_at"])
    return subscription


def status_reached_at(case: Case, status: str) -> datetime | None:
    """When the case first reached `status` or a later one in HubEE's order; None if never."""
    rank = PURGE_ORDER.get(status)
    changes = [(c.status, c.at) for c in case.status_changes.all()]
    if not changes:
        # A case older than the status history: its last change is all we know.
        changes = [(case.status, case.update_date_time or case.create_date_time)]
    reached = [
        at
        for changed_to, at in changes
        if changed_to == status or (rank is not None and PURGE_ORDER.get(changed_to, -1) >= rank)
    ]
    return min(reached, default=None)


def run_purge(now: datetime | None = None) -> PurgeResult:
    """HubEE's daily purge batch, as if it ran at `now` (default: now; later moves the clock).

    Per case, in this order: its deposited files become DELETED (binary removed, download 404)
    once now > the date it reached statusBeforeFileDeletion + timeBeforeFileDeletion + 1 day; a
    CLOSED case becomes ARCHIVED, all its files deleted, timeBeforeArchiving days after its
    closure; an ARCHIVED case is deleted (404 everywhere, its notifications stay listed)
    timeBeforeFolderDeletion days after its archiving. Each step is dated when the daily batch
    would have done it, so one run "40 days later" does what 40 daily runs would have done.
    """
    now = now or timezone.now()
    files_deleted = cases_archived = cases_deleted = 0
    cases = (
        Case.objects.filter(purged=False)
        .select_related("subscription")
        .prefetch_related("status_changes")
        .order_by("create_date_time", "id")
    )
    for case in cases.iterator(chunk_size=200):
        rules = case.subscription
        deleted: list[uuid.UUID] = []
        with transaction.atomic():
            # Files shared by several cases are not modelled: one case per attachment here.
            reached = (
                status_reached_at(case, rules.status_before_file_deletion)
                if rules.status_before_file_deletion
                else None
            )
            if reached is not None and now > reached + timedelta(
                days=rules.time_before_file_deletion + 1
            ):
                deleted += _mark_deleted(Attachment.objects.filter(case_id=case.pk))
            if _archive(case, now):
                cases_archived += 1
                deleted += _mark_deleted(_all_attachments(case))
        _remove_binaries(deleted)
        files_deleted += len(deleted)
        if _deletion_due(case, now):
            purge_case(case)
            cases_deleted += 1
    return PurgeResult(now, files_deleted, cases_archived, cases_deleted)


def _deletion_due(case: Case, now: datetime) -> bool:
    if case.status != CaseStatus.ARCHIVED or case.archive_date_time is None:
        return False
    delay = timedelta(days=case.subscription.time_before_folder_deletion)
    return now >= case.archive_date_time + delay


def _archive(case: Case, now: datetime) -> bool:
    """A case CLOSED for timeBeforeArchiving days becomes ARCHIVED, dated when it was due."""
    if case.status != CaseStatus.CLOSED or case.close_date_time is None:
        return False
    archived_at = case.close_date_time + timedelta(days=case.subscription.time_before_archiving)
    if now < archived_at:
        return False
    # Conditional: the operator may have reopened the case since it was read.
    changed = Case.objects.filter(pk=case.pk, status=CaseStatus.CLOSED, purged=False).update(
        status=CaseStatus.ARCHIVED, archive_date_time=archived_at, update_date_time=archived_at
    )
    if not changed:
        return False
    StatusChange.objects.create(case=case, status=CaseStatus.ARCHIVED, at=archived_at)
    case.status = CaseStatus.ARCHIVED
    case.archive_date_time = case.update_date_time = archived_at
    return True


# -- what HubEE sees ---------------------------------------------------------------------------


def case_as_hubee_sees_it(case: Case) -> dict[str, Any]:
    """The full Case JSON (with events), as GET /cases/{id} would answer (purged included)."""
    return case_json(Case.objects.select_related("subscription").get(pk=case.pk))


def event(event_id: uuid.UUID | str) -> Event:
    """An event by its HubEE id."""
    return Event.objects.select_related("case__subscription").get(pk=event_id)


def pending_si_notifications(subscription: Subscription) -> int:
    """How many notifications the SI has not deleted yet."""
    return Notification.objects.filter(subscription=subscription, recipient_type=Party.SI).count()


def osl_notifications(subscription: Subscription) -> list[Notification]:
    """Notifications waiting for the OSL side (SI events), oldest first."""
    return list(
        Notification.objects.filter(subscription=subscription, recipient_type=Party.OSL)
        .select_related("case", "event")
        .order_by("sequence")
    )


# -- faults ------------------------------------------------------------------------------------


def set_faults(**values: Any) -> FaultSettings:
    """Change fault switches (fields of FaultSettings); attempt counts start again from zero."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise SandboxError(f"Réglages de panne inconnus : {', '.join(sorted(unknown))}.")
    settings_row = FaultSettings.load()
    for name, value in values.items():
        setattr(settings_row, name, value)
    settings_row.full_clean()
    settings_row.save()
    faults.reset_counters()
    return settings_row


def reset_faults() -> FaultSettings:
    """Every switch back to its default (no fault)."""
    FaultSettings.objects.all().delete()
    faults.reset_counters()
    return FaultSettings.load()


# -- call log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCounts:
    calls: int
    new_connections: int
    server_errors: int
    throttled: int = 0
    by_route: dict[str, int] = field(default_factory=dict)  # "GET /teledossiers/v1/…": n
    by_status: dict[int, int] = field(default_factory=dict)


def call_counts(
    *,
    client_id: str | None = None,
    since: datetime | None = None,
    method: str | None = None,
    path: str | None = None,
) -> CallCounts:
    """Counts of logged API calls, optionally for one client, route template or period."""
    calls = CallLog.objects.all()
    if client_id is not None:
        calls = calls.filter(client_id=client_id)
    if since is not None:
        calls = calls.filter(time__gte=since)
    if method is not None:
        calls = calls.filter(method=method)
    if path is not None:
        calls = calls.filter(path=path)
    rows = list(calls.values_list("method", "path", "status_code", "new_connection"))
    return CallCounts(
        calls=len(rows),
        new_connections=sum(1 for row in rows if row[3]),
        server_errors=sum(1 for row in rows if row[2] >= 500),
        throttled=sum(1 for row in rows if row[2] == 429),
        by_route=dict(Counter(f"{m} {p}" for m, p, _, _ in rows)),
        by_status=dict(Counter(row[2] for row in rows)),
    )


def clear_call_log() -> None:
    CallLog.objects.all().delete()


def status_pushes(case: Case) -> list[str]:
    """caseNewStatus of each STATUS_UPDATE the SI posted on the case, in order."""
    return list(
        Event.objects.filter(
            case_id=case.pk, transmitter_type=Party.SI, action_type=ActionType.STATUS_UPDATE
        )
        .order_by("position")
        .values_list("case_new_status", flat=True)
    )
