"""Running counts of the dossiers (dossiers.models.tallies), kept by triggers on both databases."""

from django.db import migrations, models

TALLY = "dossiers_dossiertally"
CELL = "demarche_id, status, assigned_to_id, n"

SQLITE = [
    f"""CREATE TRIGGER dossier_tally_insert AFTER INSERT ON dossiers_dossier
    WHEN NEW.purged_at IS NULL
    BEGIN INSERT INTO {TALLY} ({CELL})
        VALUES (NEW.demarche_id, NEW.status, NEW.assigned_to_id, 1); END""",
    f"""CREATE TRIGGER dossier_tally_delete AFTER DELETE ON dossiers_dossier
    WHEN OLD.purged_at IS NULL
    BEGIN INSERT INTO {TALLY} ({CELL})
        VALUES (OLD.demarche_id, OLD.status, OLD.assigned_to_id, -1); END""",
    # Django's save() writes every column: compare, so that only real moves are counted.
    f"""CREATE TRIGGER dossier_tally_update
    AFTER UPDATE OF demarche_id, status, assigned_to_id, purged_at ON dossiers_dossier
    WHEN OLD.demarche_id IS NOT NEW.demarche_id OR OLD.status IS NOT NEW.status
        OR OLD.assigned_to_id IS NOT NEW.assigned_to_id
        OR (OLD.purged_at IS NULL) IS NOT (NEW.purged_at IS NULL)
    BEGIN
        INSERT INTO {TALLY} ({CELL})
            SELECT OLD.demarche_id, OLD.status, OLD.assigned_to_id, -1 WHERE OLD.purged_at IS NULL;
        INSERT INTO {TALLY} ({CELL})
            SELECT NEW.demarche_id, NEW.status, NEW.assigned_to_id, 1 WHERE NEW.purged_at IS NULL;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS dossier_tally_insert",
    "DROP TRIGGER IF EXISTS dossier_tally_delete",
    "DROP TRIGGER IF EXISTS dossier_tally_update",
]

POSTGRES = [
    f"""CREATE FUNCTION dossier_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.purged_at IS NULL THEN
            INSERT INTO {TALLY} ({CELL})
                VALUES (OLD.demarche_id, OLD.status, OLD.assigned_to_id, -1);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.purged_at IS NULL THEN
            INSERT INTO {TALLY} ({CELL})
                VALUES (NEW.demarche_id, NEW.status, NEW.assigned_to_id, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER dossier_tally_insert_delete AFTER INSERT OR DELETE ON dossiers_dossier
    FOR EACH ROW EXECUTE FUNCTION dossier_tally()""",
    # Django's save() writes every column: compare, so that only real moves are counted.
    """CREATE TRIGGER dossier_tally_update
    AFTER UPDATE OF demarche_id, status, assigned_to_id, purged_at ON dossiers_dossier
    FOR EACH ROW WHEN (OLD.demarche_id IS DISTINCT FROM NEW.demarche_id
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.assigned_to_id IS DISTINCT FROM NEW.assigned_to_id
        OR (OLD.purged_at IS NULL) IS DISTINCT FROM (NEW.purged_at IS NULL))
    EXECUTE FUNCTION dossier_tally()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS dossier_tally_insert_delete ON dossiers_dossier",
    "DROP TRIGGER IF EXISTS dossier_tally_update ON dossiers_dossier",
    "DROP FUNCTION IF EXISTS dossier_tally()",
]

FILL = f"""INSERT INTO {TALLY} ({CELL})
    SELECT demarche_id, status, assigned_to_id, COUNT(*) FROM dossiers_dossier
    WHERE purged_at IS NULL GROUP BY demarche_id, status, assigned_to_id"""


def _statements(schema_editor, create: bool) -> list[str]:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        return [*POSTGRES, FILL] if create else POSTGRES_DROP
    if vendor == "sqlite":
        return [*SQLITE, FILL] if create else SQLITE_DROP
    raise RuntimeError(f"Base de données non prise en charge : {vendor}")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, create=True):
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, create=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0020_failure_acknowledged"),
    ]

    operations = [
        migrations.CreateModel(
            name="DossierTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("demarche_id", models.IntegerField()),
                ("status", models.CharField(max_length=20)),
                ("assigned_to_id", models.IntegerField(null=True)),
                ("n", models.IntegerField()),
            ],
            options={
                "verbose_name": "compte de dossiers",
                "verbose_name_plural": "comptes de dossiers",
                "indexes": [
                    models.Index(
                        fields=["demarche_id", "status", "assigned_to_id", "n"],
                        name="dossier_tally_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
