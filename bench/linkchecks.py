"""The link checks (issue 16, review.linkjobs) as one task worker runs them, on the loopback.

1. A fresh PostgreSQL database `aimap_bench_links` (dropped, created, migrated) with 10,000
   published projects (bulk_create) whose websites are on 100 HTTP servers this benchmark
   starts on 127.0.0.1 in a child process (`--serve`): 100 listings per server, each server
   with the same mix: 85 % answer 200, 5 % 404, 5 % redirect then 200, 3 % 500, 2 % answer
   200 after 3 seconds. 100 listings per host is the hard case for the per-host spacing
   (on the real map nearly every listing has a host of its own).
2. `check_links` enqueued, and ONE `manage.py db_worker --batch` process running it with
   bench/linksettings.py (the loopback allowed, in code), LINK_CHECKS on, the spacing
   LINK_CHECK_HOST_INTERVAL_MS (1000 here, 2000 in production), LINK_CHECK_BATCH=10000 and
   the default concurrency (8).
3. Wall time (the worker process, and the task's own seconds), checks per second, results
   by outcome against what each server was told to answer, the worker's peak memory (and an
   idle worker's, for the difference), what the servers saw (most requests at once and the
   shortest gap between two listings' requests, per host), and the CPU other work took.

`python -m bench.linkchecks` (`make bench-links`); results in bench/results/linkchecks.json.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import load, paths

DB_NAME = "aimap_bench_links"
PROJECTS = 10_000
SERVERS = 100
SLOW_SECONDS = 3
INTERVAL_MS = 1000
TARGET_SECONDS = 600
# What the listings' servers answer, out of every 100 listings of a server.
MIX = [("ok", 85), ("missing", 5), ("moved", 5), ("broken", 3), ("slow", 2)]
EXPECTED = {  # kind -> (ok, error) the checker should record
    "ok": (True, ""),
    "missing": (False, "HTTP 404"),
    "moved": (True, ""),
    "broken": (False, "HTTP 500"),
    "slow": (True, ""),
}


def kinds():
    """The kind of each listing: every block of 100 (one server's listings) holds the mix,
    in an order shuffled once per block (the slow ones do not all come last)."""
    shuffle = random.Random(16).shuffle
    found = []
    for _block in range(PROJECTS // 100):
        block = [kind for kind, share in MIX for _ in range(share)]
        shuffle(block)
        found += block
    return found


# --- The servers (the child process) -------------------------------------------------


def serve(count):
    """Start `count` threaded servers on 127.0.0.1, print their ports (one JSON line), serve
    until stdin closes, then print what they saw (one JSON line)."""
    lock = threading.Lock()
    seen = {}  # port -> [arrival times of listings' first requests]
    at_once, most = Counter(), Counter()
    paths_seen = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.answer()

        def do_GET(self):
            self.answer()

        def answer(self):
            port = self.server.server_address[1]
            kind = self.path.split("/")[1]
            first_hop = kind != "landed"  # a redirect's second hop belongs to the same check
            with lock:
                paths_seen[kind] += 1
                if first_hop:
                    at_once[port] += 1
                    most[port] = max(most[port], at_once[port])
                    seen.setdefault(port, []).append(time.monotonic())
            try:
                if kind == "slow":
                    time.sleep(SLOW_SECONDS)
                status, headers = {
                    "missing": (404, {}),
                    "broken": (500, {}),
                    "moved": (302, {"Location": "/landed" + self.path[len("/moved") :]}),
                }.get(kind, (200, {}))
                body = b"" if self.command == "HEAD" else b"<!doctype html><title>a project</title>"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                if first_hop:
                    with lock:
                        at_once[port] -= 1

        def log_message(self, *args):
            pass

    servers = []
    for _ in range(count):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True).start()
        servers.append(server)
    print(json.dumps([server.server_address[1] for server in servers]), flush=True)
    sys.stdin.read()  # until the benchmark closes it
    for server in servers:
        server.shutdown()
    with lock:
        gaps = [
            later - earlier
            for times in seen.values()
            for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)
        ]
        usage = os.times()
        print(
            json.dumps(
                {
                    "requests": dict(paths_seen),
                    "hosts_asked": len(seen),
                    "most_at_once_per_host": max(most.values(), default=0),
                    "shortest_gap_s": min(gaps, default=None),
                    "cpu_s": usage.user + usage.system,
                }
            ),
            flush=True,
        )


# --- The benchmark -------------------------------------------------------------------


def bench_env(server_pg, interval_ms):
    from bench import run

    env = run.bench_env()
    env.update(
        DJANGO_SETTINGS_MODULE="bench.linksettings",
        DATABASE_URL=f"{server_pg}/{DB_NAME}",
        LINK_CHECKS="1",
        LINK_CHECK_HOST_INTERVAL_MS=str(interval_ms),
        LINK_CHECK_BATCH=str(PROJECTS),
    )
    for name in ("LINK_CHECK_CONCURRENCY", "LINK_CHECK_TIMEOUT", "LINK_CHECK_MAX_REDIRECTS"):
        env.pop(name, None)  # the defaults
    return env


def insert_projects(ports):
    """PROJECTS published projects: listing n on server n // 100, answering as kinds()[n] says."""
    from registry.models import Project, Track

    track = Track.objects.order_by("pk").first()
    per_server = PROJECTS // len(ports)
    kind_of = kinds()
    rows = [
        Project(
            name=f"Link bench {number}",
            slug=f"link-bench-{number}",
            tagline="A project for the link-check benchmark",
            description="What it does.",
            track=track,
            website=f"http://127.0.0.1:{ports[number // per_server]}/{kind_of[number]}/{number}",
            **Project.publication_values(),
        )
        for number in range(PROJECTS)
    ]
    Project.objects.bulk_create(rows, batch_size=1000)
    return Project.objects.published().count()


def run_worker(env, log, on_start=None):
    """Run `manage.py db_worker --batch` until the queue is empty: (seconds, exit code,
    peak RSS in MB, CPU seconds) of that process."""
    command = [
        sys.executable, str(paths.ROOT / "manage.py"), "db_worker", "--batch", "--no-startup-delay",
        "--no-reload", "--queue-name", "*",
    ]  # fmt: skip
    with open(log, "a") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=paths.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        if on_start:
            on_start(process.pid)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


class OtherWork(threading.Thread):
    """The CPU the machine spent meanwhile, and the share of it that went to other work than
    the benchmark's (processes not in `ours`, to which the worker's pid is added when it
    starts, and not PostgreSQL serving DB_NAME), sampled every second so that processes
    ending during the run count too (those living less than a second may be missed)."""

    def __init__(self, ours):
        super().__init__(daemon=True)
        self.ours, self.stop = ours, threading.Event()
        self.first, self.last, self.names = {}, {}, {}

    def sample(self, *, before=False):
        for pid, ticks in load._foreign_ticks(self.ours, DB_NAME).items():
            if pid not in self.first:
                self.first[pid] = ticks if before else 0  # started meanwhile: all of it counts
                try:
                    with open(f"/proc/{pid}/cmdline") as cmdline:
                        self.names[pid] = cmdline.read().replace("\0", " ").strip()[:120]
                except OSError:
                    self.names[pid] = "?"
            self.last[pid] = ticks

    def run(self):
        while not self.stop.wait(1.0):
            self.sample()

    def __enter__(self):
        self.busy, self.all = load._cpu_times()
        self.sample(before=True)
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()
        self.sample()
        busy, everything = load._cpu_times()
        elapsed = max(1, everything - self.all)
        self.spent = {pid: self.last[pid] - self.first[pid] for pid in self.last if pid not in self.ours}
        self.busy_share = (busy - self.busy) / elapsed
        self.foreign_share = min(1.0, max(0, sum(self.spent.values())) / elapsed)

    def top(self):
        """The other processes that took the most CPU meanwhile: [ticks, command line]."""
        ranked = sorted(self.spent.items(), key=lambda item: -item[1])[:5]
        return [[ticks, self.names.get(pid, "?")] for pid, ticks in ranked if ticks > 0]


def outcomes():
    """How the recorded checks compare with what each listing's server was told to answer."""
    from review.models import LinkCheck

    by_outcome, wrong = Counter(), []
    rows = LinkCheck.objects.values_list("url", "ok", "error", "status_code", "final_url")
    for url, ok, error, status, final_url in rows.iterator():
        kind = url.split("/")[3]
        by_outcome[f"{kind}: {'ok' if ok else error} ({status})"] += 1
        expected = EXPECTED[kind]
        landed = kind != "moved" or "/landed/" in final_url
        if (ok, error) != expected or not landed:
            wrong.append({"url": url, "ok": ok, "error": error, "status": status})
    return dict(sorted(by_outcome.items())), wrong


def measure(say, server_pg, interval_ms=INTERVAL_MS):
    from bench import database

    env = bench_env(server_pg, interval_ms)
    log = paths.RESULTS / "linkchecks.log"
    log.write_text("")
    say(f"Database {DB_NAME}: dropped, created, migrated.")
    database.drop(server_pg, DB_NAME)
    database.create(server_pg, DB_NAME)
    database.manage(env, "migrate", "--noinput", log=log)

    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "LINK_CHECKS"):
        os.environ.pop(key, None)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from review import linkjobs

    servers = subprocess.Popen(
        [sys.executable, "-m", "bench.linkchecks", "--serve", str(SERVERS)],
        cwd=paths.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ports = json.loads(servers.stdout.readline())
        public = insert_projects(ports)
        say(
            f"{public:,} published projects on {len(ports)} servers at 127.0.0.1 (child process {servers.pid})."
        )
        due_before = linkjobs.due().count()
        connection.close()

        idle_seconds, _code, idle_mb, _cpu = run_worker(env, log)  # nothing queued: the baseline
        load.wait_quiet(60)
        result = linkjobs.check_links.enqueue()
        connection.close()
        say(
            f"check_links enqueued; one `manage.py db_worker --batch` runs it (interval "
            f"{settings.LINK_CHECK_HOST_INTERVAL_MS} ms per host, concurrency {settings.LINK_CHECK_CONCURRENCY}, "
            f"timeout {settings.LINK_CHECK_TIMEOUT} s)..."
        )
        with OtherWork({os.getpid(), servers.pid}) as other:
            seconds, code, peak_mb, worker_cpu = run_worker(env, log, on_start=other.ours.add)
    finally:
        servers.stdin.close()
        seen = json.loads(servers.stdout.readline() or "{}")
        servers.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"bench: the worker exited with {code} (see {log})")
    result.refresh()
    summary = result.return_value
    by_outcome, wrong = outcomes()
    cores = os.cpu_count() or 1
    return {
        "projects": public,
        "servers": SERVERS,
        "mix": dict(MIX),
        "settings": {
            "LINK_CHECK_HOST_INTERVAL_MS": settings.LINK_CHECK_HOST_INTERVAL_MS,
            "LINK_CHECK_CONCURRENCY": settings.LINK_CHECK_CONCURRENCY,
            "LINK_CHECK_TIMEOUT": settings.LINK_CHECK_TIMEOUT,
            "LINK_CHECK_BATCH": settings.LINK_CHECK_BATCH,
        },
        "due_before": due_before,
        "due_after": linkjobs.due().count(),
        "task_status": str(result.status),
        "summary": summary,
        "worker_seconds": round(seconds, 1),
        "task_seconds": summary["seconds"],
        "checks_per_s": round(summary["checked"] / summary["seconds"], 1) if summary["seconds"] else None,
        "target_seconds": TARGET_SECONDS,
        "met": seconds <= TARGET_SECONDS and summary["checked"] == PROJECTS,
        "by_outcome": by_outcome,
        "unexpected": len(wrong),
        "unexpected_sample": wrong[:10],
        "worker_peak_mb": round(peak_mb, 1),
        "idle_worker_peak_mb": round(idle_mb, 1),
        "idle_worker_seconds": round(idle_seconds, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "servers_seen": seen,
        "machine_busy_share": round(other.busy_share, 3),
        "foreign_cpu_share": round(other.foreign_share, 3),
        "foreign_processes": other.top(),
        "cpus": cores,
    }


def report(results, say):
    summary, seen = results["summary"], results["servers_seen"]
    say(
        f"\n{summary['checked']:,} listings checked in {results['task_seconds']:.1f} s "
        f"(the worker process: {results['worker_seconds']:.1f} s, target {TARGET_SECONDS} s: "
        f"{'met' if results['met'] else 'NOT met'}), {results['checks_per_s']} checks/s"
    )
    say(f"  ok {summary['ok']:,}, failed {summary['failed']:,}, alerts {summary['alerts']}")
    for outcome, count in results["by_outcome"].items():
        say(f"    {outcome}: {count:,}")
    say(f"  recorded outcomes not matching what the server answered: {results['unexpected']}")
    say(f"  due before {results['due_before']:,}, after {results['due_after']:,}")
    say(
        f"  worker peak RSS {results['worker_peak_mb']:.0f} MB (an idle worker: {results['idle_worker_peak_mb']:.0f} MB), "
        f"CPU {results['worker_cpu_s']:.1f} s"
    )
    gap = seen.get("shortest_gap_s")
    say(
        f"  servers: {seen.get('requests')}, at most {seen.get('most_at_once_per_host')} request(s) at once per host, "
        f"shortest gap between two listings' requests to one host {gap if gap is None else round(gap, 3)} s"
    )
    say(
        f"  machine busy {results['machine_busy_share']:.0%} of {results['cpus']} CPUs during the run; "
        f"other work {results['foreign_cpu_share']:.0%}"
    )
    for ticks, command in results["foreign_processes"]:
        if ticks >= os.sysconf("SC_CLK_TCK"):  # a CPU second or more
            say(f"    other: {ticks / os.sysconf('SC_CLK_TCK'):.0f} CPU s  {command}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.linkchecks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)  # the servers' process
    parser.add_argument(
        "--interval-ms",
        type=int,
        default=INTERVAL_MS,
        help=f"LINK_CHECK_HOST_INTERVAL_MS (default {INTERVAL_MS})",
    )
    args = parser.parse_args(argv)
    if args.serve:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it by closing stdin
        serve(args.serve)
        return 0
    from bench import run

    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    results = measure(run.say, run.PG_SERVER, args.interval_ms)
    command = "make bench-links" if os.environ.get("MAKELEVEL") else "python -m bench.linkchecks"
    results["command"] = command + (
        f" --interval-ms {args.interval_ms}" if args.interval_ms != INTERVAL_MS else ""
    )
    (paths.RESULTS / "linkchecks.json").write_text(json.dumps(results, indent=2))
    report(results, run.say)
    run.say(f"\nWrote {(paths.RESULTS / 'linkchecks.json').relative_to(paths.ROOT)}.")
    return 0 if results["met"] and not results["unexpected"] else 1


if __name__ == "__main__":
    sys.exit(main())
