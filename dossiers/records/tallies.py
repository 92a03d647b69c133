"""Reading and folding the running counts of the dossiers (dossiers.models.tallies)."""

from __future__ import annotations

import logging
from collections import Counter

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, QuerySet, Sum

from dossiers.models import Dossier, DossierTally

logger = logging.getLogger(__name__)

# `assigned` when the counts are not restricted to an agent in charge.
ANYONE = object()

_TABLE = DossierTally._meta.db_table
_CELL = "demarche_id, status, assigned_to_id, n"


def counts(
    demarches: QuerySet | None = None, statuses=(), assigned=ANYONE
) -> dict[tuple[int, str], int]:
    """The dossiers not purged, by (démarche id, status), in one query on a small table.

    `demarches`: a queryset of démarches (its pks, as a subquery), or None for all of them;
    `assigned`: ANYONE, None (nobody in charge) or a user id.
    """
    cells = DossierTally.objects.all()
    if demarches is not None:
        cells = cells.filter(demarche_id__in=demarches.values("pk"))
    if statuses:
        cells = cells.filter(status__in=list(statuses))
    if assigned is None:
        cells = cells.filter(assigned_to_id__isnull=True)
    elif assigned is not ANYONE:
        cells = cells.filter(assigned_to_id=assigned)
    grouped = cells.order_by().values_list("demarche_id", "status").annotate(total=Sum("n"))
    return {(demarche, status): total for demarche, status, total in grouped if total}


@transaction.atomic
def compact() -> int:
    """Fold the rows into one per cell; returns how many rows were folded.

    Only the rows this transaction sees are deleted and summed back: a row inserted meanwhile
    by another transaction stays as it is, so no lock is needed and nothing is counted twice.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {_TABLE}")  # noqa: S608  (constants)
        rows, last = cursor.fetchone()
        if not rows or rows <= _cells():
            return 0
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""WITH gone AS (DELETE FROM {_TABLE} WHERE id <= %s
                        RETURNING demarche_id, status, assigned_to_id, n)
                    INSERT INTO {_TABLE} ({_CELL})
                    SELECT demarche_id, status, assigned_to_id, SUM(n) FROM gone
                    GROUP BY demarche_id, status, assigned_to_id HAVING SUM(n) <> 0""",  # noqa: S608
                [last],
            )
        else:
            # SQLite has one writer at a time: the transaction sees every row.
            cursor.execute(
                f"""INSERT INTO {_TABLE} ({_CELL})
                    SELECT demarche_id, status, assigned_to_id, SUM(n) FROM {_TABLE}
                    WHERE id <= %s GROUP BY demarche_id, status, assigned_to_id
                    HAVING SUM(n) <> 0""",  # noqa: S608
                [last],
            )
            cursor.execute(f"DELETE FROM {_TABLE} WHERE id <= %s", [last])  # noqa: S608
    return rows


def _cells() -> int:
    return DossierTally.objects.values("demarche_id", "status", "assigned_to_id").distinct().count()


def differences(
    using: str = DEFAULT_DB_ALIAS,
) -> dict[tuple[int, str, int | None], tuple[int, int]]:
    """Cells whose running count differs from the dossiers: {cell: (tally, real)}."""
    tally = Counter()
    for demarche, status, assigned, total in (
        DossierTally.objects.using(using)
        .order_by()
        .values_list("demarche_id", "status", "assigned_to_id")
        .annotate(total=Sum("n"))
    ):
        tally[(demarche, status, assigned)] = total
    real = Counter()
    for demarche, status, assigned, total in (
        Dossier.objects.using(using)
        .filter(purged_at__isnull=True)
        .order_by()
        .values_list("demarche_id", "status", "assigned_to_id")
        .annotate(total=Count("*"))
    ):
        real[(demarche, status, assigned)] = total
    return {
        cell: (tally[cell], real[cell])
        for cell in set(tally) | set(real)
        if tally[cell] != real[cell]
    }


def _hold_dossiers(cursor) -> None:
    """No dossier moves until the transaction ends (SQLite's IMMEDIATE transactions already
    hold the write lock)."""
    if cursor.db.vendor == "postgresql":
        cursor.execute("LOCK TABLE dossiers_dossier IN SHARE MODE")


def rebuild(using: str = DEFAULT_DB_ALIAS) -> None:
    """Count again from the dossiers (after a restore, or when `differences` finds any)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        _hold_dossiers(cursor)
        cursor.execute(f"DELETE FROM {_TABLE}")  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {_TABLE} ({_CELL})
                SELECT demarche_id, status, assigned_to_id, COUNT(*) FROM dossiers_dossier
                WHERE purged_at IS NULL GROUP BY demarche_id, status, assigned_to_id"""  # noqa: S608
        )


def repair(using: str = DEFAULT_DB_ALIAS) -> int:
    """Rebuild the running counts if they differ from the dossiers (after each migration and
    with the nightly integrity check); returns the number of cells that differed."""
    if _TABLE not in connections[using].introspection.table_names():
        return 0  # migrated back before the table
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            _hold_dossiers(cursor)
        wrong = differences(using)
        if wrong:
            logger.warning(
                "Comptes de dossiers faux, recalculés : %s",
                "; ".join(
                    f"{cell} compté {got}, réel {real}" for cell, (got, real) in wrong.items()
                ),
            )
            rebuild(using)
    return len(wrong)
