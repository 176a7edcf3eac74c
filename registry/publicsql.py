"""The SQL generated from the filter vocabulary, and the migrations that install it.

What the public can filter by is declared once, in registry.filters.ProjectFilterSet. On
PostgreSQL three things are written in SQL from that declaration:

- "counts": the functions and triggers that keep the public counts (registry/counts.py);
- "public_index": the index of the public order (published, published_at, id), carrying
  every filtered column, so any mix of filters but the search is answered from it;
- "tile_index": the map's index (track_id, name, id) over published rows, carrying them too.

Each is a *unit*: the statements that create it and those that drop it. A migration that
changes a unit carries both versions as literal text (frozen history: it imports nothing
from the project) and records what it leaves in the database in its `public_sql`
attribute. `manage.py makemigrations` (registry/management/commands/makemigrations.py)
compares the units generated now with those the migrations recorded, and writes a
migration for the units that differ; `makemigrations --check` fails while one is missing.
SQLite gets none of this (its pages count afresh and it has no covering indexes).
"""

import keyword
from importlib import import_module

from django.db.migrations.loader import MigrationLoader

from registry import counts
from registry.filters import ProjectFilterSet
from registry.models import PUBLISHED_FLAG

APP = "registry"
PUBLIC_INDEX = "registry_project_public_idx"
TILE_INDEX = "registry_project_tile_idx"

# Rebuilds the counts after their functions change, when they are kept (the state row says
# so, and in which time zone the months are).
REBUILD_IF_KEPT = """
DO $$
DECLARE
  tz text;
BEGIN
  SELECT time_zone INTO tz FROM registry_publiccountstate WHERE id = 1;
  IF FOUND THEN
    PERFORM registry_public_counts_rebuild(tz);
  END IF;
END $$;
"""


def _index(name, keys, include, where=""):
    return {
        "create": [
            f"CREATE INDEX {name} ON registry_project ({', '.join(keys)}) INCLUDE ({', '.join(include)})"
            + (f" WHERE {where}" if where else "")
        ],
        "drop": [f"DROP INDEX IF EXISTS {name}"],
    }


def _normal(unit):
    """A unit with each statement stripped of the blank lines around it (as literals hold them)."""
    return {part: [sql.strip() for sql in statements] for part, statements in unit.items()}


def units():
    """{unit name: {"create": [statements], "drop": [statements]}} as the vocabulary gives them now."""
    filtered = ProjectFilterSet.filtered_columns()
    return {
        "counts": {"create": [sql.strip() for sql in counts.install_sql()], "drop": counts.uninstall_sql()},
        # 'verified' too: the home page's and /stats/ "reviewed" number is counted from it
        "public_index": _index(
            PUBLIC_INDEX, ["published", "published_at", "id"], list(dict.fromkeys([*filtered, "verified"]))
        ),
        "tile_index": _index(
            TILE_INDEX,
            ["track_id", "name", "id"],
            ["published_at", *(c for c in dict.fromkeys([*filtered, "verified"]) if c != "track_id")],
            where=PUBLISHED_FLAG,
        ),
    }


def recorded(loader=None):
    """{unit name: unit} as the registry's migrations leave the database, in their order
    (each unit as the last migration that changed it recorded it in `public_sql`)."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    leaves = loader.graph.leaf_nodes(APP)
    state = {}
    if not leaves:
        return state
    for key in loader.graph.forwards_plan(leaves[0]):
        if key[0] == APP:
            recorded_here = getattr(loader.graph.nodes[key], "public_sql", {})
            state.update({name: _normal(unit) for name, unit in recorded_here.items()})
    return state


def changes(loader=None):
    """{unit name: (recorded unit or None, unit now)} of the units that differ."""
    before = recorded(loader)
    return {name: (before.get(name), unit) for name, unit in units().items() if before.get(name) != unit}


def next_migration(loader=None, name="public_sql"):
    """(file name, module text) of the migration that brings the recorded units to today's,
    or None when they agree."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    changed = changes(loader)
    if not changed:
        return None
    (leaf,) = loader.graph.leaf_nodes(APP)
    number = int(leaf[1].split("_", 1)[0]) + 1
    file_name = f"{number:04d}_{name}"
    return file_name, _module_text(changed, leaf, file_name)


def write_next_migration(loader=None, name="public_sql"):
    """Write next_migration() into registry/migrations/; its path, or None."""
    found = next_migration(loader, name)
    if found is None:
        return None
    file_name, text = found
    path = _migrations_directory() / f"{file_name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def _migrations_directory():
    from pathlib import Path

    return Path(import_module(f"{APP}.migrations").__file__).parent


def _literal(sql):
    """A Python literal of `sql`: a triple-quoted block for several lines, else a plain string."""
    sql = sql.strip("\n")
    if "\n" in sql and '"""' not in sql and "\\" not in sql:
        return f'"""\n{sql}\n"""'
    return repr(sql)


def _constant(name, statements):
    lines = [f"{name} = ["]
    lines += [f"    {_literal(sql)}," for sql in statements]
    lines.append("]")
    return "\n".join(lines)


def _module_text(changed, leaf, file_name):
    constants, forward, backward, record = [], [], [], []
    for unit, (before, after) in changed.items():
        upper = unit.upper()
        assert upper.isidentifier() and not keyword.iskeyword(upper)
        constants.append(_constant(f"{upper}_CREATE", after["create"]))
        constants.append(_constant(f"{upper}_DROP", after["drop"]))
        if before:
            constants.append(
                f"# As the migrations before this one left it.\n{_constant(f'{upper}_BEFORE_CREATE', before['create'])}"
            )
            constants.append(_constant(f"{upper}_BEFORE_DROP", before["drop"]))
            forward += [f"*{upper}_BEFORE_DROP", f"*{upper}_CREATE"]
            backward += [f"*{upper}_DROP", f"*{upper}_BEFORE_CREATE"]
        else:
            forward += [f"*{upper}_CREATE"]
            backward += [f"*{upper}_DROP"]
        record.append(f'"{unit}": {{"create": {upper}_CREATE, "drop": {upper}_DROP}}')
    if "counts" in changed:
        forward.append("REBUILD_IF_KEPT")
        backward.append("REBUILD_IF_KEPT")
        constants.append(f"REBUILD_IF_KEPT = {_literal(REBUILD_IF_KEPT)}")
    # Drops run in reverse order of the units (an index before the functions), creates in order.
    forward = [item for item in forward if "DROP" in item][::-1] + [
        item for item in forward if "DROP" not in item
    ]
    backward = [item for item in backward if "DROP" in item][::-1] + [
        item for item in backward if "DROP" not in item
    ]
    names = ", ".join(changed)
    body = "\n\n".join(constants)
    return f'''"""The SQL generated from the filter vocabulary (registry/publicsql.py): {names}.

Written by `manage.py makemigrations`. Frozen history: literal SQL, nothing imported from the
project; edit nothing here, change the declaration and run makemigrations again.
"""

from django.db import migrations

{body}


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite keeps no counts and has no covering indexes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("{leaf[0]}", "{leaf[1]}")]

    # What this migration leaves in the database, read by the next makemigrations.
    public_sql = {{
{"".join(f"        {line},\n" for line in record)}    }}

    operations = [
        PostgreSQL(
            sql=[
{"".join(f"                {item},\n" for item in forward)}            ],
            reverse_sql=[
{"".join(f"                {item},\n" for item in backward)}            ],
        ),
    ]
'''
