"""The models' `TextChoices` of HubEE's vocabulary, derived from the protocol's enums: the one
place where Django meets `hubee_portal.hubee.vocabulary` (same names, values, labels, order)."""

from __future__ import annotations

from django.db import models

from hubee_portal.hubee import vocabulary


def _text_choices(enum: type[vocabulary.LabelledEnum]) -> type[models.TextChoices]:
    return models.TextChoices(
        enum.__name__,
        [(member.name, (member.value, member.label)) for member in enum],
        module=__name__,
        qualname=enum.__name__,
    )


CaseStatus = _text_choices(vocabulary.CaseStatus)
EventStatus = _text_choices(vocabulary.EventStatus)
AttachmentStatus = _text_choices(vocabulary.AttachmentStatus)
ActionType = _text_choices(vocabulary.ActionType)
