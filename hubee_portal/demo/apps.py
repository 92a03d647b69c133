from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "hubee_portal.demo"
    label = "demo"
    verbose_name = "Démonstration"
