"""The dossiers models, one module per job; every model is importable from here."""

from dossiers.models.agents import AgentPreference, AuditEntry, DossierView
from dossiers.models.journal import DemarcheLease, DemarchePoll, NotificationFailure, SyncRun
from dossiers.models.operations import Heartbeat, Incident, IntegrityCheck, PurgeRun
from dossiers.models.outbound import OutgoingAttachment, OutgoingEvent
from dossiers.models.received import Dossier, Evenement, PieceJointe
from dossiers.models.tallies import DossierTally
from dossiers.models.teamwork import DossierActivity

__all__ = [
    "AgentPreference",
    "AuditEntry",
    "DemarcheLease",
    "DemarchePoll",
    "Dossier",
    "DossierActivity",
    "DossierTally",
    "DossierView",
    "Evenement",
    "Heartbeat",
    "Incident",
    "IntegrityCheck",
    "NotificationFailure",
    "OutgoingAttachment",
    "OutgoingEvent",
    "PieceJointe",
    "PurgeRun",
    "SyncRun",
]
