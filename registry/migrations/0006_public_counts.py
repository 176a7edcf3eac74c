"""Counts of the public projects kept by PostgreSQL (registry/counts.py), and the index the
map's tiles are read from (registry/landscape.py).

On PostgreSQL: the counting functions and triggers, then every public project counted once;
and an index of the published projects by track and name, so each track's first tiles are
read from it without sorting the track. On SQLite only the (unused) tables are created: the
pages count afresh there.
"""

from django.conf import settings
from django.db import migrations, models

from registry import counts

TILE_INDEX = "registry_project_tile_idx"


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in counts.INSTALL_SQL:
        schema_editor.execute(sql)
    schema_editor.execute("SELECT registry_public_counts_rebuild(%s)", [settings.TIME_ZONE])
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TILE_INDEX} ON registry_project (track_id, name, id) WHERE published"
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TILE_INDEX}")
    for sql in counts.UNINSTALL_SQL:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_public_order_indexes")]

    operations = [
        migrations.CreateModel(
            name="PublicCountState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("counted_until", models.DateTimeField()),
                ("time_zone", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="PublicCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=64)),
                ("dimension", models.CharField(max_length=20)),
                ("value", models.CharField(blank=True, max_length=100)),
                ("n", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["scope"], name="registry_publiccount_scope")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
