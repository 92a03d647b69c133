"""Reply templates in the admin: inline on the démarche's page, and a list of their own."""

from __future__ import annotations

from django.contrib import admin
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property

from demarches.admin_wording import FrenchWording
from demarches.models import ReplyTemplate


class TolerantFormSet(BaseInlineFormSet):
    """A démarche posted without this inline's management form (a script, a form that never
    showed it) leaves its templates as they are, instead of failing the whole page."""

    @cached_property
    def management_form(self):
        if self.is_bound and self.add_prefix(TOTAL_FORM_COUNT) not in self.data:
            form = ManagementForm(
                {self.add_prefix(TOTAL_FORM_COUNT): 0, self.add_prefix(INITIAL_FORM_COUNT): 0},
                auto_id=self.auto_id,
                prefix=self.prefix,
                renderer=self.renderer,
            )
            form.full_clean()
            return form
        return super().management_form


class ReplyTemplateInline(admin.StackedInline):
    model = ReplyTemplate
    formset = TolerantFormSet
    fields = ["name", "purpose", "text"]

    def get_extra(self, request, obj=None, **kwargs) -> int:
        # One empty form works without JavaScript; none where messages are not allowed.
        return 1 if obj is None or obj.allows_messages else 0


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(FrenchWording, admin.ModelAdmin):
    list_display = ["name", "demarche", "purpose", "updated_at"]
    list_filter = ["purpose", "demarche"]
    search_fields = ["name", "text", "demarche__name"]
    list_select_related = ["demarche"]
    fields = ["demarche", "name", "purpose", "text", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "demarche":
            kwargs["queryset"] = db_field.related_model.objects.filter(allows_messages=True)
            kwargs["help_text"] = "Seules les démarches qui autorisent les messages à l'usager."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
