"""Running counts of the dossiers by (démarche, status, agent in charge), kept by the database.

The list and the dashboard number their queues on every page; counting 100,000 rows each time
costs more than the rest of the page on PostgreSQL. Triggers (migration 0021) append a +1 or -1
row whenever a dossier is inserted, deleted, purged, or changes démarche, status or agent: rows
are only ever inserted, so concurrent transactions never wait for one another on a counter.
`dossiers.records.tallies.compact` folds the rows into one per cell now and then.
"""

from django.db import models


class DossierTally(models.Model):
    # Plain integers, no foreign keys: a démarche deleted with its dossiers leaves -1 rows that
    # a constraint checked at commit would refuse; compaction drops the cells that sum to 0.
    demarche_id = models.IntegerField()
    status = models.CharField(max_length=20)
    assigned_to_id = models.IntegerField(null=True)
    n = models.IntegerField()

    class Meta:
        verbose_name = "compte de dossiers"
        verbose_name_plural = "comptes de dossiers"
        indexes = [
            models.Index(
                fields=["demarche_id", "status", "assigned_to_id", "n"],
                name="dossier_tally_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.demarche_id} {self.status} {self.assigned_to_id}: {self.n}"
