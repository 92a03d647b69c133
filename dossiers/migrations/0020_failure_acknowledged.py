from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0019_download_failures"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="piecejointe",
            options={
                "ordering": ["id"],
                "permissions": [
                    ("acknowledge_failed_download", "Acquitter un fichier HubEE abandonné")
                ],
                "verbose_name": "pièce jointe",
                "verbose_name_plural": "pièces jointes",
            },
        ),
        migrations.AddField(
            model_name="piecejointe",
            name="failure_acknowledged_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="abandon acquitté le"
            ),
        ),
    ]
