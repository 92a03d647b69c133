"""The libraries' admin pages (django-q2's « Tâches », django-axes' login attempts), held to the
portal's rules: every action declares its permission, and what the worker runs is a superuser's.

A schedule or a queued task names a function and its arguments, which the worker calls with the
portal's keys: whoever writes one runs any code, reads every secret and every dossier. Others
may still look (view permission) at what runs and when.
"""

from __future__ import annotations

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success

from demarches.admin_accounts import SuperuserWrites


@admin.action(description="Relancer les tâches sélectionnées", permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    # django-q2's action, which declared no permission (and deletes resubmitted failures).
    q_admin.resubmit_task(modeladmin, request, queryset)


class ScheduleAdmin(SuperuserWrites, q_admin.ScheduleAdmin):
    pass


class SuccessAdmin(SuperuserWrites, q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(SuperuserWrites, q_admin.FailAdmin):
    actions = [resubmit_task]  # deletes the failures it resubmits (it checks the class)


class QueueAdmin(SuperuserWrites, q_admin.QueueAdmin):
    pass


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description="Supprimer les tentatives expirées", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


def _replace(model, model_admin) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)


_replace(Schedule, ScheduleAdmin)
_replace(Success, SuccessAdmin)
_replace(Failure, FailureAdmin)
_replace(OrmQ, QueueAdmin)
_replace(AccessAttempt, AccessAttemptAdmin)
