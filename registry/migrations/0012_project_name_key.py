"""Every listing keeps the key its name is matched by (registry/names.py), filled in here for the
existing ones. Frozen history: name_key below is a copy of registry.names.name_key as written
with this migration."""

import unicodedata

from django.db import migrations, models


def name_key(name):
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())[:255]


def fill_keys(apps, schema_editor):
    Project = apps.get_model("registry", "Project")
    batch = []
    for project in Project.objects.only("pk", "name").iterator(chunk_size=2000):
        project.name_key = name_key(project.name)
        batch.append(project)
        if len(batch) == 2000:
            Project.objects.bulk_update(batch, ["name_key"])
            batch = []
    Project.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_public_sql")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="name_key",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                help_text="The name as imports match it (registry.names).",
                max_length=255,
                verbose_name="name key",
            ),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
