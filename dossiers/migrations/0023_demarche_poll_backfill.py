"""Each démarche's last pass (DemarchePoll) from its journal, so that /healthz, the alerts and the
pages do not see every démarche as never synced between the upgrade and its first poll (the
alerts would mail a « pas de synchronisation réussie » per démarche, then its end)."""

from django.db import migrations
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

FINISHED = ["ok", "partial", "failed"]
SUCCEEDED = ["ok", "partial"]


def backfill(apps, schema_editor):
    Demarche = apps.get_model("demarches", "Demarche")
    DemarchePoll = apps.get_model("dossiers", "DemarchePoll")
    SyncRun = apps.get_model("dossiers", "SyncRun")

    def latest(statuses):
        return SyncRun.objects.filter(demarche=OuterRef("pk"), status__in=statuses).order_by(
            "-started_at", "-pk"
        )

    demarches = Demarche.objects.annotate(
        last_id=Subquery(latest(FINISHED).values("pk")[:1]),
        success_at=Subquery(latest(SUCCEEDED).values("finished_at")[:1]),
        success_started=Subquery(latest(SUCCEEDED).values("started_at")[:1]),
    ).filter(last_id__isnull=False)
    rows = {d.pk: d for d in demarches}
    last_runs = SyncRun.objects.in_bulk([d.last_id for d in rows.values()])
    # Failed runs since the last success: only for the démarches whose last run failed.
    failing = [d for d in rows.values() if last_runs[d.last_id].status == "failed"]
    in_row = {}
    for demarche in failing:
        runs = SyncRun.objects.filter(demarche_id=demarche.pk)
        if demarche.success_started is not None:
            runs = runs.filter(started_at__gt=demarche.success_started)
        in_row[demarche.pk] = runs.aggregate(n=Count("pk", filter=Q(status="failed")))["n"]
    now = timezone.now()
    DemarchePoll.objects.bulk_create(
        [
            DemarchePoll(
                demarche_id=pk,
                polled_at=last_runs[d.last_id].finished_at or last_runs[d.last_id].started_at,
                succeeded_at=d.success_at,
                status=last_runs[d.last_id].status,
                failure_kind=last_runs[d.last_id].failure_kind,
                failures_in_row=in_row.get(pk, 0),
                last_run_id=d.last_id,
                active_at=now,  # as a new row: polled every minute until found idle
            )
            for pk, d in rows.items()
        ],
        batch_size=500,
        ignore_conflicts=True,  # a row written meanwhile is newer
    )


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0022_demarche_poll")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
