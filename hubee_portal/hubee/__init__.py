"""HubEE protocol client (HTTP only, no Django): see client.py and errors.py."""

from .client import HubEEClient, HubEEConfig, HubEEStats
from .data import (
    DownloadResult,
    Notification,
    find_matching_event,
    is_same_event,
    is_uuid,
    parse_hubee_datetime,
    require_uuid,
    status_update_payload,
)
from .errors import (
    AmbiguousEventError,
    AuthenticationError,
    BadRequestError,
    CertificateError,
    CorruptDownloadError,
    ForbiddenError,
    HubEEError,
    NotFoundError,
    PermanentError,
    RedirectError,
    TransientError,
)

__all__ = [
    "AmbiguousEventError",
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
    "NotFoundError",
    "PermanentError",
    "RedirectError",
    "TransientError",
    "find_matching_event",
    "is_same_event",
    "is_uuid",
    "parse_hubee_datetime",
    "require_uuid",
    "status_update_payload",
]
