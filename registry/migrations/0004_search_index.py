"""Fill the search tokens of existing projects, and on PostgreSQL index them (GIN).

The index is over an expression, array_to_tsvector(string_to_array(search_tokens, ' ')),
which registry/search.py repeats word for word so that the planner uses it.
"""

from django.db import migrations

from registry.search import CREATE_INDEX_SQL, DROP_INDEX_SQL, document


def fill_tokens(apps, schema_editor):
    Project = apps.get_model("registry", "Project")
    batch = []
    for project in Project.objects.only("pk", "name", "name_en", "tagline", "description", "organization").iterator(
        chunk_size=2000
    ):
        project.search_tokens = document(project)
        batch.append(project)
        if len(batch) == 2000:
            Project.objects.bulk_update(batch, ["search_tokens"])
            batch = []
    Project.objects.bulk_update(batch, ["search_tokens"])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_INDEX_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_INDEX_SQL)


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_search_tokens")]

    operations = [
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
