"""Attachment names in the admin shown like on the agent pages: hidden characters written out,
the real extension apart (dossiers.web.templatetags.portal.piece_name)."""

from django.contrib import admin

from dossiers.web.templatetags.portal import piece_name

FIELD = "file_name"


class VisibleFileNames:
    """For an admin (inline) listing attachments: its `file_name` field shown through
    piece_name, never raw."""

    def get_fields(self, request, obj=None):
        return [_swap(name) for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return [_swap(name) for name in super().get_readonly_fields(request, obj)]

    @admin.display(description="nom d'origine")
    def visible_file_name(self, piece) -> str:
        return piece_name(piece)


def _swap(name: str) -> str:
    return "visible_file_name" if name == FIELD else name
