from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "hubee_portal.sandbox"
    label = "sandbox"
    verbose_name = "Bac à sable HubEE"
    default_auto_field = "django.db.models.BigAutoField"
