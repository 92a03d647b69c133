"""One run per démarche at a time: a lease row taken with a conditional UPDATE.

select_for_update is a no-op on SQLite, and one long transaction would fight the
commit-before-delete order, so the lease is a short UPDATE … WHERE free-or-expired-or-mine.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dossiers.models import DemarcheLease


def new_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(demarche_id: int, owner: str, ttl: timedelta) -> bool:
    try:
        with transaction.atomic():
            DemarcheLease.objects.get_or_create(demarche_id=demarche_id)
    except IntegrityError:
        pass  # created by a concurrent run: fine, the UPDATE below decides
    now = timezone.now()
    taken = (
        DemarcheLease.objects.filter(demarche_id=demarche_id)
        .filter(Q(owner="") | Q(expires_at__lt=now) | Q(owner=owner))
        .update(owner=owner, expires_at=now + ttl)
    )
    return taken == 1


def renew(demarche_id: int, owner: str, ttl: timedelta) -> bool:
    return (
        DemarcheLease.objects.filter(demarche_id=demarche_id, owner=owner).update(
            expires_at=timezone.now() + ttl
        )
        == 1
    )


def release(demarche_id: int, owner: str) -> None:
    DemarcheLease.objects.filter(demarche_id=demarche_id, owner=owner).update(
        owner="", expires_at=None
    )
