"""The SQL generated from the filter vocabulary (registry/publicsql.py): public_index, tile_index.

Written by `manage.py makemigrations`. Frozen history: literal SQL, nothing imported from the
project; edit nothing here, change the declaration and run makemigrations again.
"""

from django.db import migrations

PUBLIC_INDEX_CREATE = [
    'CREATE INDEX registry_project_public_idx ON registry_project (published, published_at, id) INCLUDE (track_id, hq_country, hq_city, stage, funding_stage, team_size, target_market, status, business_models, customer_types, foundation_models, modalities, seeking, founded_year, verified, last_verified_at)',
]

PUBLIC_INDEX_DROP = [
    'DROP INDEX IF EXISTS registry_project_public_idx',
]

# As the migrations before this one left it.
PUBLIC_INDEX_BEFORE_CREATE = [
    'CREATE INDEX registry_project_public_idx ON registry_project (published, published_at, id) INCLUDE (track_id, hq_country, hq_city, stage, funding_stage, team_size, target_market, status, business_models, customer_types, foundation_models, modalities, seeking, founded_year, verified)',
]

PUBLIC_INDEX_BEFORE_DROP = [
    'DROP INDEX IF EXISTS registry_project_public_idx',
]

TILE_INDEX_CREATE = [
    'CREATE INDEX registry_project_tile_idx ON registry_project (track_id, name, id) INCLUDE (published_at, hq_country, hq_city, stage, funding_stage, team_size, target_market, status, business_models, customer_types, foundation_models, modalities, seeking, founded_year, verified, last_verified_at) WHERE published',
]

TILE_INDEX_DROP = [
    'DROP INDEX IF EXISTS registry_project_tile_idx',
]

# As the migrations before this one left it.
TILE_INDEX_BEFORE_CREATE = [
    'CREATE INDEX registry_project_tile_idx ON registry_project (track_id, name, id) INCLUDE (published_at, hq_country, hq_city, stage, funding_stage, team_size, target_market, status, business_models, customer_types, foundation_models, modalities, seeking, founded_year, verified) WHERE published',
]

TILE_INDEX_BEFORE_DROP = [
    'DROP INDEX IF EXISTS registry_project_tile_idx',
]


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite keeps no counts and has no covering indexes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("registry", "0017_lifecycle")]

    # What this migration leaves in the database, read by the next makemigrations.
    public_sql = {
        "public_index": {"create": PUBLIC_INDEX_CREATE, "drop": PUBLIC_INDEX_DROP},
        "tile_index": {"create": TILE_INDEX_CREATE, "drop": TILE_INDEX_DROP},
    }

    operations = [
        PostgreSQL(
            sql=[
                *TILE_INDEX_BEFORE_DROP,
                *PUBLIC_INDEX_BEFORE_DROP,
                *PUBLIC_INDEX_CREATE,
                *TILE_INDEX_CREATE,
            ],
            reverse_sql=[
                *TILE_INDEX_DROP,
                *PUBLIC_INDEX_DROP,
                *PUBLIC_INDEX_BEFORE_CREATE,
                *TILE_INDEX_BEFORE_CREATE,
            ],
        ),
    ]
