"""The public index and the map's tile index carry the columns the list's filters read
(INCLUDE, PostgreSQL only): any mix of filters but the search is answered from an index a
tenth of the table's size, without reading the table's rows (docs/performance.md)."""

from django.db import migrations, models

TILE_INDEX = "registry_project_tile_idx"
FILTERED = (
    "track_id, hq_country, hq_city, verified, stage, funding_stage, team_size, target_market, status, "
    "founded_year, business_models, customer_types, foundation_models, modalities, seeking"
)


def wider_tile_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TILE_INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {TILE_INDEX} ON registry_project (track_id, name, id) "
        f"INCLUDE (published_at, {FILTERED.replace('track_id, ', '')}) WHERE published"
    )


def narrow_tile_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TILE_INDEX}")
    schema_editor.execute(f"CREATE INDEX {TILE_INDEX} ON registry_project (track_id, name, id) WHERE published")


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_public_counts")]

    operations = [
        migrations.RemoveIndex(model_name="project", name="registry_project_public_idx"),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                fields=["published", "published_at", "id"],
                include=(
                    "track", "hq_country", "hq_city", "verified", "stage", "funding_stage", "team_size",
                    "target_market", "status", "founded_year", "business_models", "customer_types",
                    "foundation_models", "modalities", "seeking",
                ),  # fmt: skip
                name="registry_project_public_idx",
            ),
        ),
        migrations.RunPython(wider_tile_index, narrow_tile_index),
    ]
