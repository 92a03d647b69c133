from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = "Dossiers reçus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossiers.tasks import ensure_schedule

        def create_schedule(sender, **kwargs):
            ensure_schedule()

        post_migrate.connect(create_schedule, sender=self, weak=False)
