"""The outbox's retry time moves from django-q Schedules named after the dossier to the row."""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

# Literals, never app imports: the names the portal wrote until this migration.
RETRY = "Nouvel essai d'envoi HubEE, dossier "
WAIT = "Envoi HubEE après la synchronisation, dossier "
SEND_TASK = "dossiers.tasks.send_outgoing"


def schedules_to_rows(apps, schema_editor):
    OutgoingEvent = apps.get_model("dossiers", "OutgoingEvent")
    Schedule = apps.get_model("django_q", "Schedule")
    now = timezone.now()
    OutgoingEvent.objects.filter(state="pending").update(next_attempt_at=now)
    when = {}
    ours = []
    for schedule in Schedule.objects.filter(Q(name__startswith=RETRY) | Q(name__startswith=WAIT)):
        suffix = schedule.name.removeprefix(RETRY).removeprefix(WAIT)
        if not (suffix.isascii() and suffix.isdigit()) or schedule.func != SEND_TASK:
            continue  # not one of ours: left alone
        at = schedule.next_run or now
        dossier_id = int(suffix)
        # Each ran send_outgoing, which sent whatever the backoff: the first to fire won.
        when[dossier_id] = min(at, when.get(dossier_id, at))
        ours.append(schedule.pk)
    for dossier_id, at in when.items():
        OutgoingEvent.objects.filter(dossier_id=dossier_id, state="pending").update(
            next_attempt_at=at
        )
    Schedule.objects.filter(pk__in=ours).delete()


def rows_to_schedules(apps, schema_editor):
    """One retry Schedule per dossier whose pending rows wait for a later time."""
    OutgoingEvent = apps.get_model("dossiers", "OutgoingEvent")
    Schedule = apps.get_model("django_q", "Schedule")
    later = {}
    for dossier_id, at in OutgoingEvent.objects.filter(
        state="pending", next_attempt_at__gt=timezone.now()
    ).values_list("dossier_id", "next_attempt_at"):
        later[dossier_id] = max(at, later.get(dossier_id, at))
    for dossier_id, at in later.items():
        Schedule.objects.update_or_create(
            name=f"{RETRY}{dossier_id}",
            defaults={
                "func": SEND_TASK,
                "args": repr(dossier_id),
                "schedule_type": "O",
                "repeats": -1,
                "next_run": at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0009_view_all_dossiers_permission"),
        ("django_q", "0014_schedule_cluster"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingevent",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="prochain essai le"),
        ),
        migrations.AddIndex(
            model_name="outgoingevent",
            index=models.Index(fields=["state", "next_attempt_at"], name="outgoing_due_idx"),
        ),
        migrations.RunPython(schedules_to_rows, rows_to_schedules),
    ]
