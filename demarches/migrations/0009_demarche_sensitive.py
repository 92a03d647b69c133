from django.db import migrations, models


class Migration(migrations.Migration):

    # 0008 is the ProConnect identity of the other half of issue 20: the lead re-points this
    # dependency to it at merge.
    dependencies = [
        ('demarches', '0007_secret_set_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='demarche',
            name='sensitive',
            field=models.BooleanField(default=False, help_text="Les agents confirment leur identité par un second facteur (application d'authentification, ou double authentification ProConnect) avant d'ouvrir un dossier de cette démarche.", verbose_name='Démarche sensible : double authentification exigée'),
        ),
    ]
