"""manage.py backup DIR: the database and the uploaded media, with a manifest.

PostgreSQL: `pg_dump --format=custom` (restorable with pg_restore, table by table);
SQLite: SQLite's online backup API (a consistent copy while the site runs). Media on
local disk: a tar.gz of MEDIA_ROOT. Media in S3 is not copied: keep bucket versioning
on (docs/deployment.md). `manage.py restore DIR --yes` puts a backup back.
"""

import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from registry.models import Project
from review.models import Submission

DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


def pg_env_and_name():
    """libpq's environment for the default database, and its name."""
    params = connection.get_connection_params()
    env = {
        "PGHOST": str(params.get("host") or ""),
        "PGPORT": str(params.get("port") or ""),
        "PGUSER": str(params.get("user") or ""),
        "PGPASSWORD": str(params.get("password") or ""),
    }
    return {key: value for key, value in env.items() if value}, params.get("dbname") or settings.DATABASES[
        "default"
    ]["NAME"]


def run(command, env):
    import os

    try:
        subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise CommandError(f"{command[0]} is not installed (PostgreSQL client tools).") from None
    except subprocess.CalledProcessError as error:
        raise CommandError(f"{command[0]} failed: {error.stderr.strip()}") from None


class Command(BaseCommand):
    help = "Back up the database and the uploaded media into a new directory."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="Created; must not exist yet.")
        parser.add_argument("--no-media", action="store_true", help="The database only.")

    def handle(self, *args, directory, no_media, **options):
        vendor = connection.vendor
        if vendor not in DUMP:
            raise CommandError(f"Backups of {vendor} databases are not supported.")
        try:
            directory.mkdir(parents=True)
        except FileExistsError:
            raise CommandError(f"{directory} exists already: choose a new directory.") from None
        target = directory / DUMP[vendor]
        if vendor == "postgresql":
            env, name = pg_env_and_name()
            run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", name], env)
        else:
            connection.ensure_connection()
            with sqlite3.connect(target) as copy:
                connection.connection.backup(copy)
        media = Path(settings.MEDIA_ROOT)
        has_media = not no_media and settings.MEDIA_STORAGE == "local" and media.is_dir()
        if has_media:
            with tarfile.open(directory / "media.tar.gz", "w:gz") as archive:
                archive.add(media, arcname="media")
        manifest = {
            "made_at": timezone.now().isoformat(),
            "database": vendor,
            "dump": target.name,
            "media": "media.tar.gz" if has_media else None,
            "projects": Project.objects.count(),
            "public_projects": Project.objects.published().count(),
            "submissions": Submission.objects.count(),
        }
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
        size = sum(path.stat().st_size for path in directory.iterdir())
        self.stdout.write(
            f"Backed up {manifest['projects']} projects and {manifest['submissions']} submissions "
            f"to {directory} ({size / 1e6:.1f} MB)."
        )


def restore_media(directory):
    archive_path = directory / "media.tar.gz"
    if not archive_path.exists():
        return False
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(archive_path) as archive:
        archive.extractall(media.parent / ".restore-media", filter="data")
    if media.exists():
        shutil.rmtree(media)
    (media.parent / ".restore-media" / "media").rename(media)
    shutil.rmtree(media.parent / ".restore-media")
    return True
