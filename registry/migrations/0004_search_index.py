"""Fill the search tokens of existing projects, and on PostgreSQL index them (GIN).

Frozen history: the tokenizer below is a copy of registry/search.py's as it stood when this
migration was last written (so a database migrated years from now gets the tokens it got
then; registry.search may change, and new rows get its tokens from the field itself). The
index is over an expression, array_to_tsvector(string_to_array(search_tokens, ' ')), which
registry/search.py repeats word for word so that the planner uses it.
"""

import re

from django.db import migrations

SEARCH_FIELDS = ("name", "name_en", "tagline", "description", "organization")
MAX_SUFFIXES = 24
MAX_TOKEN = 32
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
PIECES = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+")
IS_CJK = re.compile(rf"[{CJK}]")


def document(project):
    text = " ".join([str(getattr(project, name) or "") for name in SEARCH_FIELDS])
    found = set()
    for piece in set(PIECES.findall(text.casefold())):
        if IS_CJK.match(piece):
            found |= set(piece) | {piece[i : i + 2] for i in range(len(piece) - 1)}
        else:
            found |= {piece[i : i + MAX_TOKEN] for i in range(min(len(piece), MAX_SUFFIXES))}
    return " ".join(sorted(found))


def fill_tokens(apps, schema_editor):
    Project = apps.get_model("registry", "Project")
    batch = []
    for project in Project.objects.only("pk", *SEARCH_FIELDS).iterator(chunk_size=2000):
        project.search_tokens = document(project)
        batch.append(project)
        if len(batch) == 2000:
            Project.objects.bulk_update(batch, ["search_tokens"])
            batch = []
    Project.objects.bulk_update(batch, ["search_tokens"])


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite has no GIN index (its searches scan)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_search_tokens")]

    operations = [
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        PostgreSQL(
            sql="CREATE INDEX IF NOT EXISTS registry_project_search_gin ON registry_project "
            "USING gin (array_to_tsvector(string_to_array(search_tokens, ' ')))",
            reverse_sql="DROP INDEX IF EXISTS registry_project_search_gin",
        ),
    ]
