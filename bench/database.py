"""The benchmark's PostgreSQL database: created, migrated and seeded once, then reused.

`seed_demo --projects 100000` from an empty database is timed (one of the targets); the
database is then topped up with further demo projects until 100,000 are public (about
9% of demo projects are drafts or scheduled), and VACUUM ANALYZE gives the planner its
statistics. A later run finds 100,000 public projects and reuses the database as it is.
"""

import json
import math
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from bench import paths

PUBLIC_SQL = "SELECT count(*) FROM registry_project WHERE published AND published_at <= now()"


def _admin_connection(server):
    return psycopg.connect(f"{server}/postgres", autocommit=True)


def exists(server, name):
    with _admin_connection(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create(server, name):
    with _admin_connection(server) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")


def drop(server, name):
    with _admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def counts(url):
    """(public projects, all projects); (0, 0) before the tables exist."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('registry_project')").fetchone()[0] is None:
            return 0, 0
        public = conn.execute(PUBLIC_SQL).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM registry_project").fetchone()[0]
        return public, total


def vacuum_analyze(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def server_version(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def manage(env, *args, log=None):
    """Run manage.py with the benchmark's environment; output to `log` (a path) if given."""
    command = [sys.executable, str(paths.ROOT / "manage.py"), *args]
    if log is None:
        subprocess.run(command, cwd=paths.ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        return
    with open(log, "a") as out:
        out.write(f"\n$ manage.py {' '.join(args)}\n")
        out.flush()
        subprocess.run(command, cwd=paths.ROOT, env=env, check=True, stdout=out, stderr=subprocess.STDOUT)


def load_seed_record():
    try:
        return json.loads(paths.SEED_RECORD.read_text())
    except (OSError, ValueError):
        return None


def prepare(env, *, server, name, public_target, seed_projects, fresh, say):
    """Make sure database `name` holds `public_target` public projects; returns a dict
    describing it (and the seed timing, measured now or on an earlier run)."""
    url = f"{server}/{name}"
    if fresh and exists(server, name):
        say(f"Dropping database {name} (--fresh).")
        drop(server, name)
    if not exists(server, name):
        say(f"Creating database {name}.")
        create(server, name)
    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    log = paths.RESULTS / "seed.log"
    manage(env, "migrate", "--noinput", log=log)
    public, total = counts(url)
    seed = load_seed_record()
    reused = public >= public_target
    if not reused:
        if total == 0:
            say(f"Seeding: manage.py seed_demo --projects {seed_projects} (timed; output in {log}).")
            started = time.perf_counter()
            manage(env, "seed_demo", "--projects", str(seed_projects), log=log)
            seconds = time.perf_counter() - started
            public, total = counts(url)
            seed = {
                "seconds": round(seconds, 1),
                "projects": seed_projects,
                "public_after": public,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            paths.SEED_RECORD.write_text(json.dumps(seed, indent=2))
            say(f"  seed_demo --projects {seed_projects}: {seconds:.1f} s, {public} public.")
        wanted = max(total, seed_projects)
        while public < public_target:
            # About 91.5% of demo projects are public: ask for a few more than the gap.
            wanted += math.ceil((public_target - public) / 0.9)
            say(f"Topping up: seed_demo --projects {wanted} (until {public_target} are public).")
            manage(env, "seed_demo", "--projects", str(wanted), log=log)
            public, total = counts(url)
        say("VACUUM ANALYZE.")
        vacuum_analyze(url)
    else:
        say(f"Reusing database {name}: {public} public projects of {total} (--fresh to seed again).")
    return {"name": name, "public": public, "total": total, "reused": reused, "seed": seed}
