"""Migrations are history: frozen text that imports nothing from the project, giving every
database the same schema whatever path it took, and reversing cleanly.

The schema tests migrate scratch databases of their own with `manage.py migrate` (a
subprocess, as an operator would) and compare what the database holds: `pg_dump
--schema-only` on PostgreSQL (tables, indexes, functions, triggers), sqlite_master on SQLite.
"""

import ast
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"registry", "review", "aimap"}
MIGRATION_FILES = sorted(
    path for app in ("registry", "review", "aimap") for path in (ROOT / app / "migrations").glob("[0-9]*.py")
)

# The last migration of each app before the generated SQL (issue 13): a database of that
# time, migrated forward, must end where a new one does.
BEFORE_THE_GENERATED_SQL = [("registry", "0008_cheaper_count_reads"), ("review", "0004_list_import")]


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or ""
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"import_module", "__import__"}:
            yield from (arg.value for arg in node.args if isinstance(arg, ast.Constant))


def test_there_are_migrations_to_check():
    assert len(MIGRATION_FILES) >= 14


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_a_migration_imports_nothing_from_the_project(path):
    found = [name for name in imported_modules(path) if name.split(".")[0] in PROJECT_PACKAGES]
    assert not found, f"{path.name} imports {found}: copy what it needs as literal text instead"


# --- Migrating scratch databases ------------------------------------------------------------


def migrate(database_url, *targets):
    """`manage.py migrate` (to each `(app, migration)` target in turn, or to the latest)."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    for target in targets or [()]:
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", *target, "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"migrate {' '.join(target)} failed:\n{done.stderr[-3000:]}"


class PostgreSQL:
    def __init__(self):
        server = settings.DATABASES["default"]
        self.base = f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        self.names = []

    def new(self):
        name = f"aimap_migrations_{uuid.uuid4().hex[:10]}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        self.names.append(name)
        return f"{self.base}/{name}"

    def schema(self, url):
        done = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", url],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = [
            line
            for line in done.stdout.splitlines()
            if line and not line.startswith(("--", "SET ", "SELECT pg_catalog", "\\restrict", "\\unrestrict"))
        ]
        return "\n".join(lines)

    def drop_all(self):
        with connection.cursor() as cursor:
            for name in self.names:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class SQLite:
    def __init__(self, directory):
        self.directory = directory

    def new(self):
        return f"sqlite:///{self.directory / f'{uuid.uuid4().hex}.sqlite3'}"

    def schema(self, url):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            rows = db.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
            )
            return "\n".join(f"{kind} {name}: {sql}" for kind, name, sql in rows)

    def drop_all(self):
        pass


@pytest.fixture
def scratch(transactional_db, tmp_path):
    """Scratch databases on the server the tests run on (PostgreSQL, or SQLite files)."""
    kind = PostgreSQL() if connection.vendor == "postgresql" else SQLite(tmp_path)
    yield kind
    kind.drop_all()


def test_every_path_through_the_migrations_ends_with_the_same_schema(scratch):
    fresh = scratch.new()
    migrate(fresh)
    expected = scratch.schema(fresh)
    assert "registry_project" in expected
    if connection.vendor == "postgresql":
        assert "registry_public_keys" in expected and "registry_project_tile_idx" in expected

    # A database of the time before the generated SQL (every other app up to date), then
    # migrated forward.
    older = scratch.new()
    others = sorted(MigrationLoader(None).migrated_apps - {app for app, _name in BEFORE_THE_GENERATED_SQL})
    migrate(older, *BEFORE_THE_GENERATED_SQL, *[(app,) for app in others])
    then = scratch.schema(older)
    migrate(older)
    assert scratch.schema(older) == expected

    # Every migration reverses cleanly: back to that time gives that time's schema, back to
    # nothing leaves no table of ours, and forward again gives today's.
    migrate(older, *BEFORE_THE_GENERATED_SQL[::-1])
    assert scratch.schema(older) == then
    migrate(older, ("review", "zero"), ("registry", "zero"))
    emptied = scratch.schema(older)
    assert "registry_" not in emptied and "review_" not in emptied
    assert "registry_public" not in emptied  # no function, trigger or index left behind
    migrate(older)
    assert scratch.schema(older) == expected
