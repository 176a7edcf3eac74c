"""The function that reads the kept public counts decides whether to compact them with a
plain count of the unfiltered scope's pieces (registry/counts.py READ_FUNCTION)."""

from django.db import migrations

from registry import counts


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(counts.READ_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_public_index_carries_filters")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
