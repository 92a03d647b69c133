"""Many counts of dossiers in one query, each a scalar subquery reading a range of an index.

Written as SQL: compiling dozens of querysets through the ORM cost more than running them. Not
a UNION ALL: PostgreSQL planned the union in parallel, and starting its workers cost more than
the counts (19.5 ms against 11.4 ms for the statistics page).
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

from django.db import connection

from dossiers.models import Dossier


class DossierCounts:
    """`add` each count with its key and condition, then `run` once: {key: count}."""

    def __init__(self) -> None:
        self._keys: list[Hashable] = []
        self._parts: list[str] = []
        self._params: list = []

    @staticmethod
    def column(name: str) -> str:
        return connection.ops.quote_name(Dossier._meta.get_field(name).column)

    @staticmethod
    def moment(value: datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def add(self, key: Hashable, condition: str, *values) -> None:
        """`condition`: SQL of our own names only; every value is a parameter."""
        table = connection.ops.quote_name(Dossier._meta.db_table)
        self._keys.append(key)
        self._parts.append(f"(SELECT COUNT(*) FROM {table} WHERE {condition})")  # noqa: S608
        self._params.extend(values)

    def run(self) -> dict:
        if not self._parts:
            return {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(self._parts), self._params)  # noqa: S608
            return dict(zip(self._keys, cursor.fetchone(), strict=True))
