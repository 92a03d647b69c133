"""Health checks and administrators' alerts from the system cron: `python manage.py hubee_check`.

The worker runs the same evaluation every 5 minutes; this command also works when the worker
itself is stopped (the one incident the worker cannot report). Exit code 1 when unhealthy."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dossiers.operations import health, incidents


class Command(BaseCommand):
    help = "Vérifie l'état du portail et prévient les administrateurs (une fois par incident)."

    def handle(self, *args, **options):
        opened, closed = incidents.evaluate()
        report = health.check()
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(problem.detail))
        if report.healthy:
            self.stdout.write(self.style.SUCCESS("Portail en bonne santé."))
        self.stdout.write(f"Incidents ouverts : {opened}, clos : {closed}.")
        if not report.healthy:
            raise SystemExit(1)
