"""`python -m bench` (`make bench`): the whole benchmark, bounded in time, on the loopback.

1. PostgreSQL database `aimap_bench` with 100,000 public demo projects (bench/database.py:
   seeded and timed once, then reused).
2. In-process: a staff session, the list page's size (the floor's), the matches of each
   list query, and where the time goes: queries, EXPLAIN ANALYZE, cProfile
   (bench/profiling.py).
3. Without a cache, then with the Redis cache: gunicorn (production settings) and wrk at
   each concurrency against every page of bench/pages.py, the floor and the admin
   changelist with the same query, in the same run on the same server (bench/load.py).
4. The full CSV export from a one-worker gunicorn: rows/s and peak memory growth; the
   downloads (bench/downloads.py): the whole map from its file at c=8, and one client's
   filtered downloads beside another client.
5. The import of 2,500 rows, once the command exists (bench/importing.py).
6. The table on the console, bench/results/*.json, and docs/performance.md (bench/report.py).
"""

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import database, downloads, importing, load, paths, report

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = os.environ.get("BENCH_DB", "aimap_bench")
IMPORT_DB_NAME = DB_NAME + "_import"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
PUBLIC_PROJECTS = 100_000
SEED_PROJECTS = 100_000
CONN_MAX_AGE = 60  # the production default
# Variables of aimap/settings.py that would change what is measured if set in the caller's shell.
CLEARED = ["REDIS_URL", "PROJECTS_PER_PAGE", "MEDIA_STORAGE", "LOG_LEVEL", "TIME_ZONE"]


def say(message):
    print(message, flush=True)


def parse_args(argv):
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per page, c=8 only; docs not rewritten")
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database, seed and time it")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk per page before measuring")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated (default 8,32)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 2 * cores + 1)))
    parser.add_argument("--modes", default="nocache,redis", help="nocache, redis or both (default)")
    parser.add_argument("--only", default="", help="comma-separated page keys to load (default all)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--retries", type=int, default=2, help="repeats of a measurement disturbed by other work (default 2)"
    )
    parser.add_argument(
        "--quiet-timeout",
        type=int,
        default=30,
        help="seconds to wait, before each measurement, for other work on the machine to stop",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite the doc from the last run's JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.concurrency, args.no_doc = 3, 1, "8", True
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    return args


def bench_env(redis_url=""):
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-not-used-anywhere-else-0123456789",
        DATABASE_URL=f"{PG_SERVER}/{DB_NAME}",
        DATABASE_CONN_MAX_AGE=str(CONN_MAX_AGE),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="https://127.0.0.1",
        LOG_LEVEL="warning",
        LINK_CHECKS="0",  # never reach out (bench/linkchecks.py measures against its own servers)
        PROJECTS_PER_PAGE="24",
        PYTHONPATH=str(paths.ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def code_version():
    """The commit measured, and the files that differ from it (the benchmark's own aside)."""

    def git(*args):
        done = subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True)
        return done.stdout.rstrip() if done.returncode == 0 else ""

    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].startswith(("bench/", "docs/performance.md", "Makefile"))
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "changed": changed,
    }


def machine_info(wrk_version):
    import django
    import gunicorn
    import psycopg

    with open("/proc/cpuinfo") as cpuinfo:
        models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    with open("/proc/meminfo") as meminfo:
        memory_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": models[0] if models else "unknown",
        "memory_gb": memory_kb / 1024 / 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": database.server_version(f"{PG_SERVER}/{DB_NAME}"),
        "redis": redis_version(),
        "wrk": wrk_version,
    }


def redis_version():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    except Exception:  # no Redis: reported, and the cached run is skipped
        return "not reachable"


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def estimate_minutes(args, pages):
    per_mode = len(pages) * (args.warmup + args.duration * len(args.concurrency) + 1)
    return (len(args.modes) * per_mode + 120) / 60


def measure(args, server, env, page, concurrency, headers, say):
    """One wrk measurement, repeated (at most args.retries times) while other work on the
    machine takes more than a few percent of the CPU; the cleanest attempt is kept."""
    attempts = []
    for attempt in range(args.retries + 1):
        timeout = args.quiet_timeout if attempt == 0 else 4 * args.quiet_timeout
        waited, busy = load.wait_quiet(timeout)
        if waited > 1:
            say(f"  (waited {waited:.0f} s for other work on the machine to stop; {busy:.0%} busy)")
        result = load.wrk(
            args.port,
            page.path,
            concurrency=concurrency,
            duration=args.duration,
            headers=headers,
            server=server,
        )
        result["drain_s"] = server.wait_idle(env["DATABASE_URL"])
        result["quiet_wait_s"] = waited
        attempts.append(result)
        if result["cpu_foreign"] <= load.FOREIGN_LIMIT:
            break
        say(
            f"  (other work took {result['cpu_foreign']:.0%} of the CPU during {page.key} at c={concurrency}: again)"
        )
    best = min(attempts, key=lambda result: result["cpu_foreign"])
    best["attempts"] = len(attempts)
    return best


def run_load(args, mode, pages, session, floor_bytes, say):
    """{concurrency: {page key: wrk result}} and the page sizes, for one cache mode."""
    redis_url = REDIS_URL if mode == "redis" else ""
    if redis_url:
        flush_redis()
    env = dict(bench_env(redis_url), BENCH_FLOOR_BYTES=str(floor_bytes))
    log = paths.RESULTS / f"gunicorn-{mode}.log"
    say(f"\n== {report.MODE_NAMES[mode]}: gunicorn, {args.workers} sync workers, port {args.port} ==")
    results, sizes = {}, {}
    with load.Server(env, args.port, args.workers, log) as server:
        for page in pages:
            headers = {"Cookie": f"sessionid={session}"} if page.kind == "admin" else {}
            status, body = load.get(args.port, page.path, headers)
            if status != 200:
                raise SystemExit(f"bench: {page.path} answered {status} (see {log})")
            sizes[page.key] = len(body)
            if args.warmup:
                load.wrk(
                    args.port, page.path, concurrency=args.workers, duration=args.warmup, headers=headers
                )
                server.wait_idle(env["DATABASE_URL"])
        for concurrency in args.concurrency:
            results[str(concurrency)] = {}
            for page in pages:
                headers = {"Cookie": f"sessionid={session}"} if page.kind == "admin" else {}
                result = measure(args, server, env, page, concurrency, headers, say)
                results[str(concurrency)][page.key] = result
                errors = f", {result['errors']} errors" if result["errors"] else ""
                if result["cpu_foreign"] > report.FOREIGN_WARNING:
                    errors += f", {result['cpu_foreign']:.0%} of the CPU went to other work"
                say(
                    f"  c={concurrency:<3} {page.key:<18} {result['rps']:8.1f} req/s  "
                    f"p50 {result['p50']:7.1f}  p95 {result['p95']:7.1f}  p99 {result['p99']:7.1f} ms{errors}"
                )
    return results, sizes


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # On SIGTERM unwind normally, so that the gunicorn this run started is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    latest = paths.RESULTS / "latest.json"
    if args.report_only:
        results = json.loads(latest.read_text())
        report.write_doc(results)
        say(report.console(results))
        say(f"\nRewrote {paths.DOC.relative_to(paths.ROOT)} from {latest.relative_to(paths.ROOT)}.")
        return 0

    started = time.time()
    if os.environ.get("MAKELEVEL"):
        command = "make bench" + (
            f" BENCH_ARGS={shlex.quote(' '.join(sys.argv[1:]))}" if sys.argv[1:] else ""
        )
    else:
        command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
    wrk_version = load.ensure_wrk(say)
    code = code_version()
    say(
        f"Code: commit {code['commit']}"
        + (f", changed: {', '.join(code['changed'])}" if code["changed"] else "")
    )
    env = bench_env()
    db = database.prepare(
        env, server=PG_SERVER, name=DB_NAME, public_target=PUBLIC_PROJECTS,
        seed_projects=SEED_PROJECTS, fresh=args.fresh, say=say,
    )  # fmt: skip
    database.manage(env, "collectstatic", "--noinput", log=paths.RESULTS / "collectstatic.log")
    if "redis" in args.modes and redis_version() == "not reachable":
        say(f"Redis at {REDIS_URL} is not reachable: the cached run is skipped.")
        args.modes.remove("redis")

    # Django in this process, with the server's settings (no cache), for what needs the ORM.
    for key in CLEARED:
        os.environ.pop(key, None)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from bench import pages as page_set
    from bench import profiling

    session = profiling.staff_session()
    pages = page_set.build(*page_set.resolve())
    matches = page_set.matches(pages)
    floor_bytes = profiling.page_size("/projects/")
    say(f"The list page is {floor_bytes:,} bytes: so is the floor page.")
    repeat = 3 if args.quick else 5
    profile, plans, profiles = {}, [], []
    if not args.no_profile:
        say("\nIn-process profile (one request at a time):")
        profile = profiling.profile_pages(pages, session, repeat=repeat, say=say)
        plans = profiling.explain_slowest(pages, profile, say=say)
        profiles = profiling.cprofile_slowest(pages, profile, count=3, say=say)
    connection.close()

    loaded = [
        page for page in pages if not args.only or page.key in args.only.split(",") or page.kind == "floor"
    ]
    say(
        f"\nLoad: {len(loaded)} pages x {len(args.concurrency)} concurrencies x {len(args.modes)} modes, "
        f"{args.duration} s each: about {estimate_minutes(args, loaded):.0f} min."
    )
    modes, sizes = {}, {}
    for mode in args.modes:
        modes[mode], mode_sizes = run_load(args, mode, loaded, session, floor_bytes, say)
        sizes = sizes or mode_sizes

    say("\nFull CSV export (one worker), written in the request (DOWNLOAD_FILES=0, as the task writes it):")
    export = load.measure_export(
        dict(env, BENCH_FLOOR_BYTES=str(floor_bytes), DOWNLOAD_FILES="0"), args.port + 1, "/data/projects.csv",
        paths.RESULTS / "gunicorn-export.log", say,
    )  # fmt: skip
    downloads_measured = downloads.measure(env, args.port + 2, args.workers, say, duration=args.duration)
    imported = importing.measure(env, server=PG_SERVER, name=IMPORT_DB_NAME, say=say)

    finished = time.time()
    results = {
        "command": command,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "finished_at": datetime.fromtimestamp(finished, UTC).isoformat(timespec="seconds"),
        "elapsed_min": (finished - started) / 60,
        "machine": machine_info(wrk_version),
        "code": code,
        "settings": {
            "workers": args.workers,
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "threads": 2,
            "conn_max_age": CONN_MAX_AGE,
            "repeat": repeat,
            "floor_bytes": floor_bytes,
        },
        "database": db,
        "pages": [page.as_dict() for page in loaded],
        "matches": matches,
        "sizes": sizes,
        "modes": modes,
        "export": export,
        "downloads": downloads_measured,
        "import": imported,
        "profile": profile,
        "explain": plans,
        "cprofile": profiles,
    }
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%d-%H%M%S")
    for path in (paths.RESULTS / f"run-{stamp}.json", latest):
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    say(report.console(results))
    if not args.no_doc:
        report.write_doc(results)
        say(f"\nWrote {paths.DOC.relative_to(paths.ROOT)}.")
    say(f"Results: {latest.relative_to(paths.ROOT)} ({(finished - started) / 60:.1f} min).")
    return 0
