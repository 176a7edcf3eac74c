"""The Reviewers and Editors groups, with exactly the permissions they need.

Transitions are not permissions: review.workflow checks roles and conflicts itself.
These permissions only decide what each group may see and edit in the admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Reviewers": [
        "registry.view_track",
        "registry.view_project",
        "review.view_submission",
        "review.view_event",
        "review.view_review",
        "review.add_review",
        "review.change_review",
        "review.view_conflict",
        "review.add_conflict",
    ],
    "Editors": [
        "registry.view_track",
        "registry.add_track",
        "registry.change_track",
        "registry.view_project",
        "registry.add_project",
        "registry.change_project",
        "review.view_submission",
        "review.change_submission",
        "review.view_event",
        "review.view_review",
        "review.view_conflict",
        "review.add_conflict",
        "review.change_conflict",
        "review.delete_conflict",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after migrate; make them now so the groups can have them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in (entry.split(".") for entry in codenames)
        ]
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_reviews_conflicts_assignments"),
        ("registry", "0002_initial_tracks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
