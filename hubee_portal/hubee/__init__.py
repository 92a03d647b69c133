"""HubEE protocol (no Django): the HTTP client (client.py, its settings in config.py, its
machinery in transport.py, tokens.py, http_errors.py and transfers.py), its typed errors
(errors.py), the payloads (payloads.py) and the vocabulary (vocabulary.py)."""

from .client import API_PREFIX, HubEEClient
from .config import HubEEConfig
from .data import (
    DownloadResult,
    Notification,
    NotificationList,
    is_uuid,
    parse_hubee_datetime,
    require_uuid,
)
from .errors import (
    AmbiguousEventError,
    AuthenticationError,
    BadRequestError,
    CertificateError,
    CorruptDownloadError,
    ForbiddenError,
    HubEEError,
    InvalidPayloadError,
    NotFoundError,
    PermanentError,
    Reason,
    RedirectError,
    TooLargeError,
    TransientError,
)
from .payloads import (
    Applicant,
    Attachment,
    AttachmentDraft,
    Case,
    Event,
    EventDraft,
    Organization,
    PartnerInfo,
    find_matching_event,
    is_same_event,
)
from .transport import HubEEStats
from .vocabulary import ActionType, AttachmentStatus, CaseStatus, EventStatus, moves_forward

__all__ = [
    "API_PREFIX",
    "ActionType",
    "AmbiguousEventError",
    "Applicant",
    "Attachment",
    "AttachmentDraft",
    "AttachmentStatus",
    "Case",
    "CaseStatus",
    "Event",
    "EventDraft",
    "EventStatus",
    "InvalidPayloadError",
    "Organization",
    "PartnerInfo",
    "Reason",
    "moves_forward",
    "AuthenticationError",
    "BadRequestError",
    "CertificateError",
    "CorruptDownloadError",
    "DownloadResult",
    "ForbiddenError",
    "HubEEClient",
    "HubEEConfig",
    "HubEEError",
    "HubEEStats",
    "Notification",
    "NotificationList",
    "NotFoundError",
    "PermanentError",
    "RedirectError",
    "TooLargeError",
    "TransientError",
    "find_matching_event",
    "is_same_event",
    "is_uuid",
    "parse_hubee_datetime",
    "require_uuid",
]
