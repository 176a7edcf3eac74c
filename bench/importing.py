"""The import target: `manage.py import_projects FILE` with 2,500 rows into an empty map
(no more than 10 s). Until the command exists this reports that it is not available.

`measure()` writes a CSV of 2,500 fresh demo listings (the open-data columns that are the
schema's: registry.opendata.SCHEMA_COLUMNS, the same as the export), creates a separate,
freshly migrated database, and times the command. `run_import()` is the one place that
knows how the command is called.
"""

import csv
import subprocess
import sys
import time

from bench import database, paths

ROWS = 2_500
FIRST_NUMBER = 900_001  # demo numbers no seeded map uses: names repeat, slugs are new
COMMAND_FILES = [
    paths.ROOT / "registry" / "management" / "commands" / "import_projects.py",
    paths.ROOT / "review" / "management" / "commands" / "import_projects.py",
]


def available():
    return any(path.exists() for path in COMMAND_FILES)


def write_rows(path, count=ROWS, first=FIRST_NUMBER):
    """A CSV of `count` demo listings, as an editor would upload it."""
    from registry import demo, opendata

    anchor = demo.demo_anchor()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(opendata.SCHEMA_COLUMNS)
        for number in range(first, first + count):
            project = demo.build_project(number, anchor)
            # Demo names repeat every 480 projects: number them, or the import rightly
            # skips them as look-alikes. No logos (they would come in a ZIP).
            fields = dict(
                project.fields,
                name=f"{project.fields['name']} {number}",
                name_en=f"{project.fields['name_en']} {number}",
                logo="",
                track=project.fields["track_slug"],
                secondary_tracks=project.secondary,
            )
            if not fields["show_contact_email"]:
                fields["contact_email"] = ""
            writer.writerow([opendata.csv_cell(fields.get(name, "")) for name in opendata.SCHEMA_COLUMNS])
    return path


def run_import(env, path, log):
    """Time `manage.py import_projects FILE` (seconds, including Django's start-up)."""
    started = time.perf_counter()
    with open(log, "a") as out:
        subprocess.run(
            [sys.executable, str(paths.ROOT / "manage.py"), "import_projects", str(path)],
            cwd=paths.ROOT, env=env, check=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return time.perf_counter() - started


def measure(env, *, server, name, say):
    if not available():
        say("import: not available yet (no manage.py import_projects)")
        return {"status": "not available yet"}
    say(f"Import: {ROWS} rows into a fresh database {name}.")
    database.drop(server, name)
    database.create(server, name)
    import_env = dict(env, DATABASE_URL=f"{server}/{name}")
    log = paths.RESULTS / "import.log"
    database.manage(import_env, "migrate", "--noinput", log=log)
    csv_path = write_rows(paths.RESULTS / "import-2500.csv")
    try:
        seconds = run_import(import_env, csv_path, log)
    except subprocess.CalledProcessError as error:
        say(f"  import failed (exit {error.returncode}); see {log}")
        return {"status": "failed", "log": str(log.relative_to(paths.ROOT))}
    public, total = database.counts(import_env["DATABASE_URL"])
    say(f"  import of {ROWS} rows: {seconds:.1f} s ({total} projects now, {public} public)")
    return {"status": "measured", "rows": ROWS, "seconds": seconds, "projects_after": total}
