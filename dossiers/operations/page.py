"""The administrators' one page: is the portal healthy, what does it keep and for how long, who
is warned, which staff accounts see only their habilitations. Read-only; built from the /healthz
checks, the schedules, the journals and the accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django_q.models import Schedule

from demarches.models import Demarche
from dossiers.enums import OutgoingState, RunStatus
from dossiers.models import (
    AuditEntry,
    DemarchePoll,
    Dossier,
    Incident,
    IntegrityCheck,
    OutgoingEvent,
    PurgeRun,
    SyncRun,
)
from dossiers.operations import health, incidents, retention
from dossiers.operations.schedules import (
    ANTIVIRUS_SCHEDULE_NAME,
    AUDIT_SCHEDULE_NAME,
    DIGEST_SCHEDULE_NAME,
    HEARTBEAT_SCHEDULE_NAME,
    INCIDENTS_SCHEDULE_NAME,
    PURGE_SCHEDULE_NAME,
    SCHEDULE_NAME,
    VERIFY_SCHEDULE_NAME,
)
from dossiers.records import access, antivirus
from dossiers.records.periods import minute_after
from dossiers.records.querysets import last_integrity_checks
from hubee_portal.hubee.vocabulary import RETENTION_START

ROWS_PER_PAGE = 50

# The schedules an administrator needs to see, in the order they read them.
SCHEDULES = [
    (SCHEDULE_NAME, "Synchronisation des démarches actives"),
    (HEARTBEAT_SCHEDULE_NAME, "Battement du worker (supervision)"),
    (INCIDENTS_SCHEDULE_NAME, "Alertes aux administrateurs"),
    (PURGE_SCHEDULE_NAME, "Purge RGPD des dossiers expirés"),
    (AUDIT_SCHEDULE_NAME, "Purge du journal d'audit"),
    (VERIFY_SCHEDULE_NAME, "Contrôle d'intégrité des fichiers"),
    (ANTIVIRUS_SCHEDULE_NAME, "Analyse antivirus des fichiers en attente"),
    (DIGEST_SCHEDULE_NAME, "Récapitulatif quotidien des agents"),
]


@dataclass
class DemarcheRow:
    demarche: Demarche
    health: dict
    last_success: datetime | None
    disk: dict | None
    last_run: SyncRun | None  # the last journaled run: its message (HubEE's answer)
    poll: DemarchePoll | None = None  # the last pass, idle or not
    stored: int = 0
    final: int = 0
    purged: int = 0
    to_purge: int | None = None  # at the next scheduled purge; None when none is scheduled
    integrity: IntegrityCheck | None = None
    problems: list[health.Problem] = field(default_factory=list)
    pending_pushes: int = 0  # agents' and automatic pushes not yet on HubEE
    held_pushes: int = 0  # of which a POST was cut: they wait until it can no longer land
    held_until: str = ""  # HH:MM, rounded up
    failed_pushes: int = 0  # refused by HubEE or out of attempts: their error is in the admin


@dataclass
class Operations:
    report: health.Report
    rows: list[DemarcheRow]
    open_incidents: dict[tuple[str, str], Incident]
    incidents: list[Incident]
    schedules: list[tuple[str, Schedule | None]]
    next_purge: datetime | None
    purges: list[PurgeRun]
    audit_months: int
    audit_count: int
    audit_oldest: datetime | None
    audit_next_purge: datetime | None
    admins: list[str]
    mail_failures: int
    worker_last_beat: datetime | None
    # Staff accounts that see only their habilitations (no « Voir tous les dossiers »).
    staff_without_view_all: list = field(default_factory=list)
    # ANTIVIRUS on or off, and the files it holds back by verdict (antivirus.held_counts).
    antivirus_on: bool = False
    antivirus_held: dict = field(default_factory=dict)
    demarches_page: DjangoPage | None = None  # of démarche ids, for the table's navigation

    @property
    def problems(self) -> list[tuple[health.Problem, Incident | None]]:
        return [(p, self.open_incidents.get((p.kind, p.subject))) for p in self.report.problems]


def build(now: datetime | None = None, page: str | int | None = None) -> Operations:
    """`page`: of the démarches' table (ROWS_PER_PAGE rows, those with a problem first)."""
    now = now or timezone.now()
    report = health.check(now)
    schedules = {s.name: s for s in Schedule.objects.filter(name__in=[n for n, _ in SCHEDULES])}
    purge_schedule = schedules.get(PURGE_SCHEDULE_NAME)
    next_purge = purge_schedule.next_run if purge_schedule else None
    audit_schedule = schedules.get(AUDIT_SCHEDULE_NAME)
    audit_span = AuditEntry.objects.aggregate(n=Count("pk"), oldest=Min("at"))
    open_incidents = {
        (i.kind, i.subject): i for i in Incident.objects.filter(closed_at__isnull=True)
    }
    demarches_page = _page(report, page)
    return Operations(
        report=report,
        rows=_rows(report, next_purge, list(demarches_page.object_list)),
        demarches_page=demarches_page,
        open_incidents=open_incidents,
        incidents=list(Incident.objects.order_by("-opened_at", "-pk")[:20]),
        schedules=[(label, schedules.get(name)) for name, label in SCHEDULES],
        next_purge=next_purge,
        purges=list(PurgeRun.objects.order_by("-started_at", "-pk")[:5]),
        audit_months=settings.AUDIT_RETENTION_MONTHS,
        audit_count=audit_span["n"],
        audit_oldest=audit_span["oldest"],
        audit_next_purge=audit_schedule.next_run if audit_schedule else None,
        admins=[address for _, address in settings.ADMINS],
        mail_failures=incidents.awaiting_mail().exclude(mail_error="").count(),
        worker_last_beat=_parse(report.worker.get("last_beat")),
        staff_without_view_all=list(access.technical_admins_without_view_all()),
        antivirus_on=antivirus.enabled(),
        antivirus_held=antivirus.held_counts(),
    )


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _page(report: health.Report, number: str | int | None) -> DjangoPage:
    """The démarches' ids for one page of the table: those with a problem first, then by name.
    An operator may have 2,500: drawing them all took over a second."""
    troubled = set(_problems_by_demarche(report))
    ids = sorted(
        Demarche.objects.order_by("name", "pk").values_list("pk", flat=True),
        key=lambda pk: pk not in troubled,
    )
    return Paginator(ids, ROWS_PER_PAGE).get_page(number)


def _problems_by_demarche(report: health.Report) -> dict[int, list[health.Problem]]:
    """Each démarche's problems: its own, and those of its connection it is part of."""
    found: dict[int, list[health.Problem]] = {}
    for problem in report.problems:
        ids = list(problem.demarche_ids)
        if not ids and problem.subject.startswith("demarche-"):
            ids = [int(problem.subject.removeprefix("demarche-"))]
        for pk in ids:
            found.setdefault(pk, []).append(problem)
    return found


def _rows(report: health.Report, next_purge: datetime | None, ids: list[int]) -> list[DemarcheRow]:
    by_pk = Demarche.objects.select_related("organisation", "poll").in_bulk(ids)
    demarches = [by_pk[pk] for pk in ids if pk in by_pk]
    # A page holds a few dozen démarches: the grouped queries read only theirs.
    counts = {
        row["demarche_id"]: row
        for row in Dossier.objects.filter(demarche_id__in=ids)
        .values("demarche_id")
        .annotate(
            stored=Count("pk", filter=Q(purged_at__isnull=True)),
            final=Count("pk", filter=Q(purged_at__isnull=True, status__in=RETENTION_START)),
            purged=Count("pk", filter=Q(purged_at__isnull=False)),
        )
        .order_by()
    }
    last_runs = {
        run.demarche_id: run
        for run in SyncRun.objects.filter(
            pk__in=SyncRun.objects.filter(demarche_id__in=ids)
            .exclude(status=RunStatus.SKIPPED)
            .values("demarche_id")
            .annotate(last=Max("pk"))
            .values("last")
        ).only("demarche_id", "started_at", "status", "failure_kind", "message")
    }
    integrity = {check.demarche_id: check for check in last_integrity_checks(ids)}
    pending = Q(state=OutgoingState.PENDING)
    pushes = {
        row["dossier__demarche_id"]: row
        for row in OutgoingEvent.objects.filter(
            dossier__demarche_id__in=ids, state__in=[OutgoingState.PENDING, OutgoingState.FAILED]
        )
        .values("dossier__demarche_id")
        .annotate(
            pending=Count("pk", filter=pending),
            held=Count("pk", filter=pending & Q(post_unanswered_since__isnull=False)),
            cut_at=Max("post_unanswered_since", filter=pending),
            failed=Count("pk", filter=Q(state=OutgoingState.FAILED)),
        )
        .order_by()
    }
    to_purge = retention.expired_counts(demarches, next_purge) if next_purge else None
    by_id = {entry["id"]: entry for entry in report.demarches}
    disks = {entry["folder"]: entry for entry in report.disks}
    problems = _problems_by_demarche(report)
    rows = []
    for demarche in demarches:
        subject = f"demarche-{demarche.pk}"
        count = counts.get(demarche.pk, {})
        push = pushes.get(demarche.pk, {})
        held_until = push["cut_at"] + OutgoingEvent.settle() if push.get("cut_at") else None
        if held_until is not None and held_until <= timezone.now():
            held_until = None  # past: the next run sends or gives up
        rows.append(
            DemarcheRow(
                demarche=demarche,
                health=by_id.get(demarche.pk, {}),
                last_success=_parse(by_id.get(demarche.pk, {}).get("last_successful_sync")),
                disk=disks.get(subject),
                last_run=last_runs.get(demarche.pk),
                poll=getattr(demarche, "poll", None),
                stored=count.get("stored", 0),
                final=count.get("final", 0),
                purged=count.get("purged", 0),
                to_purge=to_purge.get(demarche.pk, 0) if to_purge is not None else None,
                integrity=integrity.get(demarche.pk),
                problems=problems.get(demarche.pk, []),
                pending_pushes=push.get("pending", 0),
                held_pushes=push.get("held", 0) if held_until else 0,
                held_until=minute_after(held_until) if held_until else "",
                failed_pushes=push.get("failed", 0),
            )
        )
    return rows
