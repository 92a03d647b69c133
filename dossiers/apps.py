from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = "Dossiers reçus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossiers.operations.schedules import ensure_schedule

        def create_schedule(sender, **kwargs):
            ensure_schedule()

        post_migrate.connect(create_schedule, sender=self, weak=False)

        from dossiers.records import tallies

        def count_again(sender, using, **kwargs):
            # After a migration, a restore, or a flush (SQLite deletes the tables in any
            # order: the dossiers' triggers may count into a table already emptied).
            tallies.repair(using)

        post_migrate.connect(count_again, sender=self, weak=False)

        from dossiers.records import assignment_signals

        assignment_signals.connect()

        from django.db.models.signals import post_save

        from dossiers.models import SyncRun
        from dossiers.records import polls

        def last_pass(sender, instance, raw=False, **kwargs):
            # Every journaled run, wherever it is written, is the démarche's last pass.
            if not raw:
                polls.record_run(instance)

        post_save.connect(last_pass, sender=SyncRun, weak=False, dispatch_uid="hubee-last-pass")

        from django_q.signals import post_execute_in_worker, pre_execute

        from dossiers.operations import worker_beat

        pre_execute.connect(worker_beat.task_started, dispatch_uid="hubee-worker-beat-start")
        post_execute_in_worker.connect(
            worker_beat.task_finished, dispatch_uid="hubee-worker-beat-stop"
        )
