"""The antivirus verdict of each file (dossiers.records.antivirus).

Files already stored become « non analysé » (off), still openable: blocking every past file at
the upgrade would stop the agents' work for as long as the first scan of the whole disk takes.
`manage.py hubee_verify --antivirus`, run once after the upgrade, scans them and quarantines
what is infected (docs/installation-et-production.md). New files wait for the antivirus when it
is on (the callable default).
"""

from django.db import migrations, models

import dossiers.models.received


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0016_queue_milestones")]

    operations = [
        migrations.AddField(
            model_name="piecejointe",
            name="scan",
            field=models.CharField(
                choices=[
                    ("pending", "En attente d'analyse antivirus"),
                    ("clean", "Analysé, sain"),
                    ("infected", "Bloqué par l'antivirus"),
                    ("unscannable", "Non analysable"),
                    ("off", "Non analysé"),
                ],
                default="off",
                editable=False,
                max_length=12,
                verbose_name="analyse antivirus",
            ),
        ),
        migrations.AlterField(
            model_name="piecejointe",
            name="scan",
            field=models.CharField(
                choices=[
                    ("pending", "En attente d'analyse antivirus"),
                    ("clean", "Analysé, sain"),
                    ("infected", "Bloqué par l'antivirus"),
                    ("unscannable", "Non analysable"),
                    ("off", "Non analysé"),
                ],
                default=dossiers.models.received.initial_scan,
                editable=False,
                max_length=12,
                verbose_name="analyse antivirus",
            ),
        ),
        migrations.AddField(
            model_name="piecejointe",
            name="scan_signature",
            field=models.CharField(blank=True, max_length=200, verbose_name="signature détectée"),
        ),
        migrations.AddField(
            model_name="piecejointe",
            name="scanned_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="analysé le"
            ),
        ),
        migrations.AddIndex(
            model_name="piecejointe",
            index=models.Index(
                condition=models.Q(("scan__in", ["infected", "pending", "unscannable"])),
                fields=["scan"],
                name="piecejointe_scan_held_idx",
            ),
        ),
    ]
