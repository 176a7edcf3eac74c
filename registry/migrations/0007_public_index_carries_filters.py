"""The public index and the map's tile index carry the columns the list's filters read
(INCLUDE, PostgreSQL only): any mix of filters but the search is answered from an index a
tenth of the table's size, without reading the table's rows (docs/performance.md).

Frozen history: literal SQL, as written at commit 483bf0d."""

from django.db import migrations, models

TILE_INDEX_CREATE = (
    "CREATE INDEX registry_project_tile_idx ON registry_project (track_id, name, id) "
    "INCLUDE (published_at, hq_country, hq_city, verified, stage, funding_stage, team_size, target_market, "
    "status, founded_year, business_models, customer_types, foundation_models, modalities, seeking) "
    "WHERE published"
)
TILE_INDEX_DROP = "DROP INDEX IF EXISTS registry_project_tile_idx"
# As migration 0006 left it.
TILE_INDEX_0006_CREATE = (
    "CREATE INDEX registry_project_tile_idx ON registry_project (track_id, name, id) WHERE published"
)


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite has no covering indexes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_public_counts")]

    public_sql = {"tile_index": {"create": [TILE_INDEX_CREATE], "drop": [TILE_INDEX_DROP]}}

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
        PostgreSQL(
            sql=[TILE_INDEX_DROP, TILE_INDEX_CREATE],
            reverse_sql=[TILE_INDEX_DROP, TILE_INDEX_0006_CREATE],
        ),
    ]
