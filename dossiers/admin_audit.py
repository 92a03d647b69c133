"""Reads of received data in the admin go to the audit journal like the agent pages' (the
README promises every consultation is traced): a dossier's page with its files and events, an
outgoing push, their history, and each list with its search."""

from django.contrib.admin.views.main import SEARCH_VAR

from dossiers.enums import AuditAction
from dossiers.models import Dossier
from dossiers.records import audit

# Says in the journal that the read was in the admin, not on the agent pages.
ADMIN = "admin"


class AuditedReads:
    """ModelAdmin mixin for models that are, or belong to, a dossier."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Reached with an object only once the admin found it within the user's reach.
        if obj is not None and request.method == "GET":
            self._record_view(request, obj, ADMIN)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("object")
        if response.status_code == 200 and obj is not None:
            self._record_view(request, obj, f"{ADMIN}, historique")
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and response.status_code == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if changelist is not None:
                self._record_list(request, changelist)
        return response

    def _record_view(self, request, obj, detail: str) -> None:
        dossier = obj if isinstance(obj, Dossier) else obj.dossier
        ref = "" if obj is dossier else f"{self.opts.model_name} {obj.pk}"
        audit.record(request.user, AuditAction.VIEW, dossier=dossier, object_ref=ref, detail=detail)

    def _record_list(self, request, changelist) -> None:
        detail = f"{ADMIN}, {self.opts.verbose_name_plural}, page {changelist.page_num}"
        search = request.GET.get(SEARCH_VAR, "").strip()
        if search:
            # The searched fields are numbers and identifiers (search_fields), never names.
            detail += f", recherche « {search} »"
        audit.record(request.user, AuditAction.LIST, detail=detail)
