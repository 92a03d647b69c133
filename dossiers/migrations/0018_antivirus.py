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
    dependencies = [("dossiers", "0017_statistics")]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("list", "Consultation de la liste des dossiers"),
                    ("view", "Consultation d'un dossier"),
                    ("view_xml", "Lecture d'une pièce XML"),
                    ("download", "Téléchargement d'une pièce"),
                    ("download_all", "Téléchargement de toutes les pièces (ZIP)"),
                    ("preview", "Aperçu d'une pièce"),
                    ("status", "Changement de statut demandé"),
                    ("message", "Message à l'usager"),
                    ("return_documents", "Renvoi de documents à l'usager"),
                    ("retry", "Nouvel essai d'un envoi"),
                    ("sync", "Synchronisation demandée"),
                    ("preferences", "Préférences modifiées"),
                    ("export", "Export CSV de la liste des dossiers"),
                    ("take", "Dossier pris en charge par un agent"),
                    ("assign", "Dossier confié à un agent"),
                    ("release", "Dossier libéré"),
                    ("note", "Note interne ajoutée"),
                    (
                        "view_sensitive",
                        "Consultation des informations sensibles d'un certificat de décès",
                    ),
                    ("antivirus_release", "Pièce non analysable libérée par un superutilisateur"),
                ],
                max_length=20,
                verbose_name="action",
            ),
        ),
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
                    ("released", "Libéré sans analyse complète"),
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
                    ("released", "Libéré sans analyse complète"),
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
