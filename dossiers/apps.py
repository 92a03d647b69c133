from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = "Dossiers reçus"
    default_auto_field = "django.db.models.BigAutoField"
