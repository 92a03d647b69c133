"""The checks behind /healthz for monitoring tools, the administrators' alerts reuse.

Rule: HTTP 503 as soon as one check lists a problem, i.e. something needs a person —
database unreachable; no worker heartbeat for HEALTH_WORKER_SILENCE_MINUTES; an active
démarche whose credentials were refused on its last run, whose last HEALTH_FAILED_RUNS runs
all failed, or with no successful sync (ok or partial) for HEALTH_SYNC_MAX_AGE_MINUTES (counted
from its creation when it never synced); a given-up notification not yet acknowledged (the
« Acquitter » action of the admin); a download folder with less than HEALTH_MIN_FREE_MB free;
files missing or altered at a démarche's last integrity check; a file the sync gave up
(FAILED); a purge that left files; clamd unreachable while files wait for it.

The answer holds ids, process codes, counts and dates only: never a name, an e-mail, a file
name, a path or an error text (those may carry personal data).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

HEARTBEAT_NAME = "worker"


@dataclass(frozen=True)
class Problem:
    kind: str  # database, worker, credentials, sync_failing, sync_stale, given_up, disk,
    # integrity, download_failed, purge
    subject: str  # "", "demarche-<id>" or "connection-<id>"
    detail: str  # French, no personal data
    # A problem of several démarches (one HubEE connection down for all): which ones. Not in
    # the JSON, whose subject names the connection.
    demarche_ids: tuple[int, ...] = ()


@dataclass
class Report:
    checked_at: datetime
    database: bool = True
    worker: dict[str, Any] = field(default_factory=dict)
    demarches: list[dict[str, Any]] = field(default_factory=list)
    given_up: int = 0
    failed_downloads: int = 0  # given-up files no administrator acknowledged
    disks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "error",
            "checked_at": self.checked_at.isoformat(),
            "database": {"ok": self.database},
            "worker": self.worker,
            "demarches": self.demarches,
            "notifications": {"given_up_unacknowledged": self.given_up},
            "disk": self.disks,
            "problems": [
                {"kind": p.kind, "subject": p.subject, "detail": p.detail} for p in self.problems
            ],
        }


def _sync_problem_text(kind: str) -> str:
    if kind == "sync_failing":
        return f"les {settings.HEALTH_FAILED_RUNS} dernières synchronisations ont échoué"
    return (
        f"aucune synchronisation réussie depuis plus de {settings.HEALTH_SYNC_MAX_AGE_MINUTES} "
        "minutes"
    )


LISTED_IDS = 20


def _sync_problem(
    kind: str, connection_id: int, connection_name: str, members: list[tuple[int, str]]
) -> Problem:
    """One démarche: its own problem, as always. Several on one connection: one problem for the
    connection, naming them (the first LISTED_IDS)."""
    what = _sync_problem_text(kind)
    if len(members) == 1:
        pk, label = members[0]
        return Problem(kind, f"demarche-{pk}", f"{label} : {what}.", (pk,))
    ids = [pk for pk, _ in members]
    shown = ", ".join(str(pk) for pk in ids[:LISTED_IDS])
    more = f" et {len(ids) - LISTED_IDS} autre(s)" if len(ids) > LISTED_IDS else ""
    return Problem(
        kind,
        f"connection-{connection_id}",
        f"Connexion « {connection_name} », {len(ids)} démarches ({shown}{more}) : {what}.",
        tuple(ids),
    )


def beat(now: datetime | None = None) -> None:
    """Scheduled every minute on the worker (dossiers.tasks.heartbeat)."""
    from dossiers.models import Heartbeat

    Heartbeat.objects.update_or_create(
        name=HEARTBEAT_NAME, defaults={"beat_at": now or timezone.now()}
    )


def disk_usage(path: Path) -> tuple[int, int, int]:
    """(free, total, device) of the file system holding path, or its nearest existing parent."""
    while not path.exists() and path.parent != path:
        path = path.parent
    usage = shutil.disk_usage(path)
    return usage.free, usage.total, path.stat().st_dev


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def check(now: datetime | None = None) -> Report:
    now = now or timezone.now()
    report = Report(checked_at=now)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        report.database = False
        report.problems.append(Problem("database", "", "Base de données injoignable."))
        return report
    _check_worker(report, now)
    _check_demarches(report, now)
    _check_notifications(report)
    _check_integrity(report)
    _check_downloads(report)
    _check_purge(report)
    _check_antivirus(report)
    return report


def _check_worker(report: Report, now: datetime) -> None:
    from dossiers.models import Heartbeat

    last = Heartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("beat_at", flat=True)
    last = last.first()
    limit = timedelta(minutes=settings.HEALTH_WORKER_SILENCE_MINUTES)
    ok = last is not None and now - last <= limit
    report.worker = {
        "ok": ok,
        "last_beat": _iso(last),
        "age_seconds": int((now - last).total_seconds()) if last else None,
    }
    if not ok:
        report.problems.append(
            Problem(
                "worker",
                "",
                "Le worker (qcluster) ne donne plus signe de vie : les synchronisations "
                "sont arrêtées.",
            )
        )


def _check_demarches(report: Report, now: datetime) -> None:
    """One query for every démarche with its last pass (DemarchePoll, written by every poll,
    idle or not), and one look at each distinct download folder."""
    from demarches.models import Demarche
    from dossiers.enums import RunFailure

    max_age = timedelta(minutes=settings.HEALTH_SYNC_MAX_AGE_MINUTES)
    min_free = settings.HEALTH_MIN_FREE_MB * 1024 * 1024
    failed_runs = max(settings.HEALTH_FAILED_RUNS, 1)
    usage: dict[str, tuple[int, int, object]] = {}
    full: dict[object, list[tuple[int, int]]] = {}
    # Plain values, not models: 2,500 démarches and their passes, read every minute or so.
    # (kind, connection) -> démarches: a HubEE down for 2,500 démarches is one incident per
    # connection, not 2,500 mails (and 2,500 more when it comes back).
    grouped: dict[tuple[str, int, str], list[tuple[int, str]]] = {}
    demarches = Demarche.objects.order_by("pk").values_list(
        "pk",
        "process_code",
        "connection_id",
        "connection__name",
        "enabled",
        "created_at",
        "download_folder",
        "poll__succeeded_at",
        "poll__status",
        "poll__failure_kind",
        "poll__failures_in_row",
    )
    for (
        pk,
        process_code,
        connection_id,
        connection_name,
        enabled,
        created_at,
        folder,
        last_success,
        *last_pass,
    ) in demarches:
        subject = f"demarche-{pk}"
        status, failure_kind, failures_in_row = last_pass  # None without a pass yet
        # The last finished pass's failure stays while the next one runs (status RUNNING).
        refused = failure_kind == RunFailure.CREDENTIALS
        failing = (failures_in_row or 0) >= failed_runs
        stale = now - (last_success or created_at) > max_age
        entry = {
            "id": pk,
            "process_code": process_code,
            "enabled": enabled,
            "last_successful_sync": _iso(last_success),
            # The last pass's (« running » while a journaled run goes on).
            "last_run_status": status or None,
            "ok": True,
        }
        if enabled:
            label = f"Démarche {pk} ({process_code})"
            if refused:
                report.problems.append(
                    Problem(
                        "credentials",
                        subject,
                        f"{label} : HubEE refuse ses identifiants (client id ou secret).",
                    )
                )
            elif failing:
                grouped.setdefault(("sync_failing", connection_id, connection_name), []).append(
                    (pk, label)
                )
            if stale:
                grouped.setdefault(("sync_stale", connection_id, connection_name), []).append(
                    (pk, label)
                )
            entry["ok"] = not (refused or failing or stale)
        report.demarches.append(entry)

        # Démarches sharing a folder share its answer: each folder is looked at once.
        if folder not in usage:
            try:
                usage[folder] = disk_usage(Path(folder))
            except OSError:
                usage[folder] = (0, 0, None)
        free, total, device = usage[folder]
        disk = {
            "folder": subject,
            "free_bytes": free,
            "total_bytes": total,
            "ok": free >= min_free,
        }
        report.disks.append(disk)
        if not disk["ok"]:
            # One problem per file system: five folders on one full disk are one incident.
            full.setdefault(device if device is not None else subject, []).append((pk, free))
    for (kind, connection_id, connection_name), members in grouped.items():
        report.problems.append(_sync_problem(kind, connection_id, connection_name, members))
    for folders in full.values():
        ids = ", ".join(str(pk) for pk, _ in folders)
        free = min(free for _, free in folders)
        where = (
            f"de la démarche {ids}" if len(folders) == 1 else f"des démarches {ids} (même disque)"
        )
        report.problems.append(
            Problem(
                "disk",
                f"demarche-{folders[0][0]}",
                f"Dossier de téléchargement {where} : {free // (1024 * 1024)} Mo libres "
                f"(seuil {settings.HEALTH_MIN_FREE_MB} Mo).",
            )
        )


def _check_notifications(report: Report) -> None:
    from django.db.models import Count

    from dossiers.models import NotificationFailure

    by_demarche = dict(
        NotificationFailure.objects.filter(given_up=True, resolved_at__isnull=True)
        .values_list("demarche_id")
        .annotate(n=Count("pk"))
        .order_by("demarche_id")
    )
    report.given_up = sum(by_demarche.values())
    for demarche_id, count in by_demarche.items():
        report.problems.append(
            Problem(
                "given_up",
                f"demarche-{demarche_id}",
                f"Démarche {demarche_id} : {count} notification(s) HubEE abandonnée(s), à "
                "examiner puis acquitter dans l'administration.",
            )
        )


def _check_integrity(report: Report) -> None:
    """The last finished integrity check of each démarche found every file intact."""
    from dossiers.records.querysets import last_integrity_failures

    for check in last_integrity_failures():
        report.problems.append(
            Problem(
                "integrity",
                f"demarche-{check.demarche_id}",
                f"Démarche {check.demarche_id} : {check.missing} fichier(s) manquant(s) et "
                f"{check.altered} altéré(s) au contrôle d'intégrité du "
                f"{timezone.localtime(check.started_at):%d/%m/%Y}. Restaurez-les depuis la "
                "sauvegarde puis relancez « python manage.py hubee_verify ».",
            )
        )


def _check_downloads(report: Report) -> None:
    """Files the sync gave up (too large, or failing their check on every run): a citizen's
    document is missing from its dossier until someone retries it, or acknowledges it (HubEE
    may never send it: the admin's « Acquitter » action on the dossiers)."""
    from django.db.models import Count

    from dossiers.enums import AttachmentState
    from dossiers.models import PieceJointe

    by_demarche = (
        PieceJointe.objects.filter(
            state=AttachmentState.FAILED,
            dossier__purged_at__isnull=True,
            failure_acknowledged_at__isnull=True,
        )
        .values_list("dossier__demarche_id")
        .annotate(n=Count("pk"))
        .order_by("dossier__demarche_id")
    )
    for demarche_id, count in by_demarche:
        report.failed_downloads += count
        report.problems.append(
            Problem(
                "download_failed",
                f"demarche-{demarche_id}",
                f"Démarche {demarche_id} : {count} fichier(s) HubEE non téléchargé(s) (trop "
                "volumineux, ou taille ou empreinte fausses à chaque essai). Une fois la cause "
                "réglée (HUBEE_MAX_FILE_BYTES, correction chez HubEE), relancez « python "
                f"manage.py hubee_retry_downloads {demarche_id} » ; si HubEE ne peut plus les "
                "fournir, acquittez-les dans l'administration (Dossiers, action « Acquitter les "
                "fichiers abandonnés »).",
            )
        )


def _check_purge(report: Report) -> None:
    from dossiers.models import PurgeRun

    last = PurgeRun.objects.order_by("-started_at", "-pk").values_list("details", flat=True)
    errors = (last.first() or {}).get("errors") or []
    if errors:
        report.problems.append(
            Problem(
                "purge",
                "",
                f"La dernière purge RGPD n'a pas pu supprimer les fichiers de {len(errors)} "
                "dossier(s) : leurs données personnelles sont conservées au-delà de la durée "
                "prévue (nouvel essai à chaque purge ; voir les journaux du worker).",
            )
        )


def _check_antivirus(report: Report) -> None:
    from dossiers.records import antivirus

    since = antivirus.unreachable_since()
    if since is None:
        return
    report.problems.append(
        Problem(
            "antivirus",
            "",
            f"L'antivirus (clamd) ne répond pas depuis le "
            f"{timezone.localtime(since):%d/%m/%Y à %H:%M} : {antivirus.waiting_count()} "
            "fichier(s) attendent leur analyse et restent fermés aux agents. Vérifiez le service "
            "clamav-daemon et CLAMD_SOCKET ; l'analyse reprend d'elle-même à son retour.",
        )
    )
