"""Attachment type codes in words, read with the attachments themselves (no query per row)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from demarches.models import AttachmentTypeLabel

ASSUMED_SUFFIX = " (type supposé)"


@dataclass(frozen=True)
class AttachmentTypeName:
    code: str
    label: str  # the code itself when it has no label
    known: bool = False
    assumed: bool = False

    @property
    def text(self) -> str:
        if not self.code:
            return "—"
        return f"{self.label}{ASSUMED_SUFFIX}" if self.assumed else self.label


def name_of(code: str, label: str | None = None, assumed: bool | None = None) -> AttachmentTypeName:
    """The name shown for ``code``; the raw code when it has no label."""
    if not label:
        return AttachmentTypeName(code=code, label=code)
    return AttachmentTypeName(code=code, label=label, known=True, assumed=bool(assumed))


def label_annotations(code_field: str) -> dict[str, Subquery]:
    """For ``.annotate(**label_annotations("attachment_type"))``: labels in the same query."""
    match = AttachmentTypeLabel.objects.filter(code=OuterRef(code_field))
    return {
        "type_label": Subquery(match.values("label")[:1]),
        "type_assumed": Subquery(match.values("assumed")[:1]),
    }


def name_of_annotated(row: object, code: str) -> AttachmentTypeName:
    """The name of a row read with ``label_annotations``; the raw code if it was read without."""
    return name_of(code, getattr(row, "type_label", None), getattr(row, "type_assumed", None))
