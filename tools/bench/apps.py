from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Development only: `manage.py hubee_benchmark`, installed with the sandbox."""

    name = "tools.bench"
    label = "bench"
    verbose_name = "Bancs d'essai"
