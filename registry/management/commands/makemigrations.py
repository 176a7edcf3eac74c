"""`manage.py makemigrations`, which also writes the migration of the SQL generated from the
filter vocabulary (registry/publicsql.py) when it has changed.

Django's own command runs first, unchanged. Then, unless only other apps were named (or a
merge or an empty migration was asked for), the generated SQL is compared with what the
registry's migrations recorded: with --check that difference fails the command (as a
missing model migration does), with --dry-run it is shown, otherwise a migration is written.
"""

import sys

from django.core.management.commands.makemigrations import Command as DjangoMakeMigrations

from registry import publicsql


class Command(DjangoMakeMigrations):
    help = (
        DjangoMakeMigrations.help + " Also the SQL generated from the list's filters (registry/publicsql.py)."
    )

    def handle(self, *app_labels, **options):
        super().handle(*app_labels, **options)
        if options["merge"] or options["empty"] or (app_labels and publicsql.APP not in app_labels):
            return
        found = publicsql.next_migration(name=options["name"] or "public_sql")
        if found is None:
            return
        file_name, text = found
        changed = ", ".join(publicsql.changes())
        if options["check_changes"] or options["dry_run"]:
            self.stdout.write(
                f"Migrations for '{publicsql.APP}':\n  {file_name}.py\n    ~ generated SQL: {changed}"
            )
            if options["verbosity"] >= 3:
                self.stdout.write(text)
            if options["check_changes"]:
                sys.exit(1)
            return
        path = publicsql.write_next_migration(name=options["name"] or "public_sql")
        self.stdout.write(f"Migrations for '{publicsql.APP}':\n  {path}\n    ~ generated SQL: {changed}")
