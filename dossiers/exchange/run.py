"""The one entry point of a run with HubEE, for the django-q task (dossiers.tasks), `manage.py
hubee_sync` and « Synchroniser maintenant » alike: sync a démarche, then deliver its due outbox,
under one lease; then the agents' immediate e-mail alerts. The only place that decides which
démarches may be contacted: the enabled ones."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from demarches.hubee import ConfigurationError
from demarches.models import Demarche
from dossiers.exchange import connection, lease
from dossiers.exchange.inbound.journal import SyncOutcome
from dossiers.exchange.inbound.listing import run_sync
from dossiers.exchange.lease import LEASE_TTL
from dossiers.exchange.outbound.delivery import DeliveryOutcome, deliver_due
from dossiers.models import OutgoingEvent, SyncRun
from dossiers.records import alerts, polls
from hubee_portal.hubee import HubEEClient

logger = logging.getLogger(__name__)


def enabled(queryset: QuerySet[Demarche] | None = None) -> QuerySet[Demarche]:
    """The rule, written once: only an enabled démarche is ever synced (an imported one stays
    off until an administrator enables it)."""
    if queryset is None:
        queryset = Demarche.objects.all()
    return queryset.filter(enabled=True).select_related("connection")


@dataclass
class DemarcheResult:
    demarche: Demarche
    sync: SyncOutcome | None = None  # None: disabled (or deleted), never contacted
    delivery: DeliveryOutcome | None = None
    pending_pushes: int = 0  # pushes of the démarche still pending after the run

    @property
    def disabled(self) -> bool:
        return self.sync is None

    @property
    def skipped(self) -> bool:
        return self.sync is not None and self.sync.skipped

    @property
    def run(self) -> SyncRun | None:
        return self.sync.run if self.sync else None

    @property
    def error(self) -> str | None:
        return self.sync.error if self.sync else None

    @property
    def connection_error(self) -> str | None:
        return self.sync.connection_error if self.sync else None

    @property
    def pending_failures(self) -> int:
        return self.sync.pending_failures if self.sync else 0

    def as_task_result(self) -> dict[str, Any]:
        """What the django-q task returns (shown in its admin)."""
        if self.disabled:
            return {"demarche": self.demarche.pk, "skipped": "disabled or deleted"}
        run = self.run
        return {
            "demarche": self.demarche.pk,
            "skipped": self.skipped,
            "status": run.status if run else None,
            "dossiers_created": run.dossiers_created if run else 0,
            "errors": run.errors if run else 0,
            "pending_pushes": self.pending_pushes,
        }


def run_demarche(
    demarche: Demarche | int,
    *,
    client: HubEEClient | None = None,
    concurrency: int | None = None,
    send_alerts: bool = True,
) -> DemarcheResult:
    """Sync the démarche then deliver its due pushes, under its lease; then the alerts. The
    démarche is read again here: one disabled (or deleted) meanwhile is not contacted."""
    pk = demarche.pk if isinstance(demarche, Demarche) else demarche
    current = enabled().filter(pk=pk).first()
    if current is None:
        if not isinstance(demarche, Demarche):
            demarche = Demarche.objects.filter(pk=pk).first() or Demarche(pk=pk)
        return DemarcheResult(demarche)
    with lease.held(current.pk, LEASE_TTL) as keeper:
        if keeper is None:
            logger.info("démarche %s: already being synced elsewhere, skipped", current.pk)
            # The run in progress does the work: the démarche may be polled again.
            polls.clear_request(current.pk)
            return DemarcheResult(current, SyncOutcome(current, None, skipped=True))
        if client is None:
            try:
                client = connection.client_for(current)
            except ConfigurationError:
                client = None  # the sync journals why; the pushes wait for the configuration
        outcome = run_sync(current, keeper, client=client, concurrency=concurrency)
        delivered = deliver_due(current, client=client, keeper=keeper)
    if send_alerts:
        alerts.send_immediate_alerts()
    return DemarcheResult(current, outcome, delivered, pending_pushes=delivered.pending)


def run_all(
    demarches: Iterable[Demarche | int] | None = None,
    *,
    on_result: Callable[[DemarcheResult], None] | None = None,
    concurrency: int | None = None,
) -> list[DemarcheResult]:
    """Each démarche in turn (every enabled one by default); one failing never stops the
    others. The alerts go once, at the end."""
    if demarches is None:
        demarches = list(enabled())
    results = []
    for demarche in demarches:
        try:
            result = run_demarche(demarche, concurrency=concurrency, send_alerts=False)
        except Exception as exc:
            pk = demarche.pk if isinstance(demarche, Demarche) else demarche
            logger.exception("démarche %s: sync failed", pk)
            if not isinstance(demarche, Demarche):
                # Deleted meanwhile (a likely cause of the failure): the others still run.
                demarche = Demarche.objects.filter(pk=pk).first() or Demarche(pk=pk)
            outcome = SyncOutcome(demarche, None, error=f"{type(exc).__name__}: {exc}")
            result = DemarcheResult(demarche, outcome, pending_pushes=_pending(demarche))
        results.append(result)
        if on_result:
            on_result(result)
    alerts.send_immediate_alerts()
    return results


def _pending(demarche: Demarche) -> int:
    return OutgoingEvent.objects.pending().filter(dossier__demarche=demarche).count()
