from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0018_antivirus"),
    ]

    operations = [
        migrations.AddField(
            model_name="piecejointe",
            name="download_failures",
            field=models.PositiveSmallIntegerField(
                default=0, editable=False, verbose_name="téléchargements en échec"
            ),
        ),
        migrations.AlterField(
            model_name="piecejointe",
            name="state",
            field=models.CharField(
                choices=[
                    ("pending", "À télécharger"),
                    ("stored", "Enregistré"),
                    ("corrupt", "Corrompu"),
                    ("unavailable", "Indisponible"),
                    ("failed", "Non téléchargée"),
                ],
                default="pending",
                max_length=12,
                verbose_name="état",
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="failure_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "—"),
                    ("credentials", "Identifiants refusés par HubEE"),
                    ("hubee", "HubEE injoignable ou en erreur"),
                    ("disk", "Dossier de téléchargement inutilisable"),
                    ("lease", "Démarche reprise par une autre synchronisation"),
                    ("invalid", "Notifications HubEE illisibles"),
                ],
                default="",
                max_length=12,
                verbose_name="cause de l'échec",
            ),
        ),
    ]
