"""manage.py restore DIR --yes: put back a backup made by `manage.py backup`.

It replaces the current database's content (and local media) with the backup's; stop
the app servers first. Without --yes it only says what it would do."""

import json
import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from aimap.management.commands.backup import pg_env_and_name, restore_media, run


class Command(BaseCommand):
    help = "Restore the database and media from a directory made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--yes", action="store_true", help="Really replace the current data.")

    def handle(self, *args, directory, yes, **options):
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
        except (OSError, ValueError):
            raise CommandError(
                f"{directory} holds no backup (manifest.json missing or unreadable)."
            ) from None
        if manifest["database"] != connection.vendor:
            raise CommandError(
                f"This is a {manifest['database']} backup; the database is {connection.vendor}."
            )
        summary = (
            f"{manifest['projects']} projects and {manifest['submissions']} submissions "
            f"from {manifest['made_at']}"
        )
        if not yes:
            self.stdout.write(f"Would replace the current data with {summary}. Run again with --yes.")
            return
        dump = directory / manifest["dump"]
        if connection.vendor == "postgresql":
            env, name = pg_env_and_name()
            connection.close()
            run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "-d",
                    name,
                    str(dump),
                ],
                env,
            )
        else:
            connection.ensure_connection()
            with sqlite3.connect(dump) as source:
                source.backup(connection.connection)
        media = restore_media(directory)
        self.stdout.write(f"Restored {summary}{' and the media' if media else ''}.")
