"""HubEE values the sandbox stores (API.md §4 and §6); values are HubEE's, labels French.

The statuses and action types come from the protocol's vocabulary (values and labels only,
through `hubee_portal.choices`); the sandbox keeps its own transition rules (`workflow.py`).
"""

from django.db import models

from hubee_portal.choices import (  # noqa: F401  (re-exported for the sandbox)
    ActionType,
    AttachmentStatus,
    CaseStatus,
    EventStatus,
)


class Party(models.TextChoices):
    SI = "SI", "Service instructeur (SI)"
    OSL = "OSL", "Opérateur (OSL)"

    @property
    def other(self) -> "Party":
        return Party.OSL if self is Party.SI else Party.SI
