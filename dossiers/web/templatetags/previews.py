"""`piece|previewable:dossier`: whether the dossier page links to an attachment's preview."""

from pathlib import Path

from django import template

from dossiers.records import previews

register = template.Library()


@register.filter
def previewable(piece, dossier) -> bool:
    """The dossier (its démarche already read) spares a query per attachment."""
    if piece.dossier_id != dossier.pk:
        return False
    return previews.can_open(piece, Path(dossier.demarche.download_folder))
