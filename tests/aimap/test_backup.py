"""Backup and restore (manage.py backup / restore), each in a fresh process against its own
database: a backup taken, data lost, the backup restored, the data back (media too)."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432"
SHELL_CREATE = (
    "from registry.models import Project, Track;"
    "Project.objects.create(name='{name}', tagline='t', description='d', track=Track.objects.first(),"
    " published=True, published_at='2026-01-01T00:00:00Z')"
)
SHELL_COUNT = (
    "from registry.models import Project; print(sorted(Project.objects.values_list('name', flat=True)))"
)


def manage(env, *args, check=True):
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def names(env):
    return manage(env, "shell", "-v", "0", "-c", SHELL_COUNT).stdout.strip().splitlines()[-1]


def round_trip(env, tmp_path):
    media = Path(env["MEDIA_ROOT"])
    manage(env, "migrate", "-v", "0")
    manage(env, "shell", "-v", "0", "-c", SHELL_CREATE.format(name="Kept"))
    (media / "logos").mkdir(parents=True)
    (media / "logos" / "kept.webp").write_bytes(b"RIFF-logo")

    made = manage(env, "backup", str(tmp_path / "backup"))
    assert "Backed up 1 projects" in made.stdout
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["projects"] == 1 and manifest["media"] == "media.tar.gz"

    # The disaster: a project deleted, another added, the logo gone.
    manage(
        env, "shell", "-v", "0", "-c", "from registry.models import Project; Project.objects.all().delete()"
    )
    manage(env, "shell", "-v", "0", "-c", SHELL_CREATE.format(name="Later"))
    shutil.rmtree(media / "logos")
    assert names(env) == "['Later']"

    dry = manage(env, "restore", str(tmp_path / "backup"))
    assert "Run again with --yes" in dry.stdout and names(env) == "['Later']"
    manage(env, "restore", str(tmp_path / "backup"), "--yes")

    assert names(env) == "['Kept']"
    assert (media / "logos" / "kept.webp").read_bytes() == b"RIFF-logo"
    refused = manage(env, "backup", str(tmp_path / "backup"), check=False)
    assert refused.returncode == 1 and "exists already" in refused.stderr


def env_for(database_url, tmp_path):
    return {"DEBUG": "1", "DATABASE_URL": database_url, "MEDIA_ROOT": str(tmp_path / "media")}


def test_backup_and_restore_on_sqlite(tmp_path):
    round_trip(env_for(f"sqlite:///{tmp_path / 'site.sqlite3'}", tmp_path), tmp_path)


def test_restore_refuses_a_directory_without_a_backup(tmp_path):
    env = env_for(f"sqlite:///{tmp_path / 'site.sqlite3'}", tmp_path)
    result = manage(env, "restore", str(tmp_path), "--yes", check=False)
    assert result.returncode == 1 and "holds no backup" in result.stderr


@pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("createdb") is None, reason="no PostgreSQL tools"
)
def test_backup_and_restore_on_postgresql(tmp_path):
    name = f"aimap_backup_{uuid.uuid4().hex[:8]}"
    created = subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", "template0", "-E", "UTF8", name],
        capture_output=True,
    )
    if created.returncode != 0:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    try:
        round_trip(env_for(f"{PG}/{name}", tmp_path), tmp_path)
    finally:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], capture_output=True
        )
