from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0016_queue_milestones"),
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
    ]
