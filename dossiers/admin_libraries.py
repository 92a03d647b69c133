"""The libraries' admin pages (django-q2's « Tâches », django-axes' login attempts), held to the
portal's rules: every action declares its permission, and what the worker runs is a superuser's.

A schedule or a queued task names a function and its arguments, which the worker calls with the
portal's keys: whoever writes one runs any code, reads every secret and every dossier. Others
may still look (view permission) at what runs and when: the scheduled tasks, read-only.

The task lists (done, failed, queued) are a superuser's only, even to read: their arguments and
results are dossier numbers, file paths and error texts of every démarche, which an
administrateur technique sees only where habilitated; « État du portail » tells them whether
the worker runs and each démarche syncs.

Both libraries' names are said in French (app and models): « Tentatives de connexion » for
django-axes, « Tâches » for django-q2; see demarches.admin_wording for the messages.
"""

from __future__ import annotations

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success

from demarches.admin_accounts import SuperuserWrites
from demarches.admin_wording import FrenchWording

# (model, verbose_name, verbose_name_plural). Set on _meta at run time, not in the libraries'
# migrations: Django's migration state reads the options the model class declared.
NAMES = [
    (AccessAttempt, "tentative échouée en cours", "tentatives échouées en cours"),
    (AccessLog, "connexion", "journal des connexions"),
    (AccessFailureLog, "échec de connexion", "journal des échecs de connexion"),
    (Schedule, "tâche planifiée", "tâches planifiées"),
    (Success, "tâche réussie", "tâches réussies"),
    (Failure, "tâche échouée", "tâches échouées"),
    (OrmQ, "tâche en file d'attente", "tâches en file d'attente"),
]
APP_NAMES = {"axes": "Tentatives de connexion", "django_q": "Tâches"}


def _name_in_french() -> None:
    for model, singular, plural in NAMES:
        model._meta.verbose_name = singular
        model._meta.verbose_name_plural = plural
    for label, name in APP_NAMES.items():
        apps.get_app_config(label).verbose_name = name


class SuperuserOnly(SuperuserWrites):
    """Not even listed for other staff (see the module's docstring)."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)


@admin.action(description="Relancer les tâches sélectionnées", permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    # django-q2's action, which declared no permission (and deletes resubmitted failures).
    q_admin.resubmit_task(modeladmin, request, queryset)


class ScheduleAdmin(FrenchWording, SuperuserWrites, q_admin.ScheduleAdmin):
    pass


class SuccessAdmin(FrenchWording, SuperuserOnly, q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(FrenchWording, SuperuserOnly, q_admin.FailAdmin):
    actions = [resubmit_task]  # deletes the failures it resubmits (it checks the class)


class QueueAdmin(FrenchWording, SuperuserOnly, q_admin.QueueAdmin):
    pass


class AccessAttemptAdmin(FrenchWording, axes_admin.AccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description="Supprimer les tentatives expirées", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


class AccessLogAdmin(FrenchWording, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(FrenchWording, axes_admin.AccessFailureLogAdmin):
    pass


def _replace(model, model_admin) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)


_replace(Schedule, ScheduleAdmin)
_replace(Success, SuccessAdmin)
_replace(Failure, FailureAdmin)
_replace(OrmQ, QueueAdmin)
_replace(AccessAttempt, AccessAttemptAdmin)
_replace(AccessLog, AccessLogAdmin)
_replace(AccessFailureLog, AccessFailureLogAdmin)
_name_in_french()
