from django.apps import AppConfig


class DemarchesConfig(AppConfig):
    name = "demarches"
    verbose_name = "Configuration HubEE"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the deploy checks (`manage.py check --deploy`).
        from demarches import checks  # noqa: F401
        from demarches.proconnect import checks as proconnect_checks  # noqa: F401
