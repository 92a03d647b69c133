from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('demarches', '0008_proconnect_identity'),
    ]

    operations = [
        migrations.AddField(
            model_name='demarche',
            name='sensitive',
            field=models.BooleanField(default=False, help_text="Les agents confirment leur identité par un second facteur (application d'authentification, ou double authentification ProConnect) avant d'ouvrir un dossier de cette démarche.", verbose_name='Démarche sensible : double authentification exigée'),
        ),
    ]
