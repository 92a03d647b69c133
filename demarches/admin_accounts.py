"""Accounts in the admin: who grants rights. Django lets any holder of change_user or
change_group give themselves every permission (even superuser status); here, only a superuser
grants permissions, groups or superuser status, and touches a superuser's account. Other
administrateurs techniques create agents and edit their names, e-mails, passwords and status.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

User = get_user_model()

GRANTS = ["is_superuser", "groups", "user_permissions"]


class AccountAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += GRANTS
        return readonly

    def _touches_superuser(self, request, obj) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        # Also guards the password form: a superuser's password is not another's to set.
        if self._touches_superuser(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if self._touches_superuser(request, obj):
            return False
        return super().has_delete_permission(request, obj)


class SuperuserWrites:
    """Add, change and delete for superusers only (on top of the model permissions): for pages
    where writing is granting rights, or making the worker run code."""

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class RightsGroupAdmin(SuperuserWrites, GroupAdmin):
    """A group is a bundle of permissions: writing one is granting them."""


for model, model_admin in ((User, AccountAdmin), (Group, RightsGroupAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
