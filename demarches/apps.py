from django.apps import AppConfig


class DemarchesConfig(AppConfig):
    name = "demarches"
    verbose_name = "Configuration HubEE"
    default_auto_field = "django.db.models.BigAutoField"
