"""`python -m bench.ab`: two versions of the site compared in one run, interleaved.

`make bench` measures one version; run twice, its before/after figures carry whatever the
machine did in between (on a shared virtual machine the floor itself moved by 25% between
two runs). This starts both versions side by side, each on its own benchmark database and
its own gunicorn, and measures every public page on one, then the other, alternating which
goes first, for several rounds: drift hits both alike, and the median of the rounds is
compared.

    python -m bench.ab --before /path/to/old-checkout:aimap_bench \\
                       --after  .:aimap_bench_after [--rounds 3] [--duration 5] [--modes nocache,redis]

Each checkout needs its benchmark database seeded already (`make bench` does it), its own
virtual environment's packages being the same (the one running this is used).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench import load, paths
from bench.run import PG_SERVER, bench_env

PORTS = {"before": 8771, "after": 8772}
REDIS_DBS = {"before": 13, "after": 14}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="CHECKOUT:DATABASE of the old version")
    parser.add_argument("--after", required=True, help="CHECKOUT:DATABASE of the new version")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--modes", default="nocache,redis")
    parser.add_argument("--only", default="", help="comma-separated page keys (default: the public pages)")
    parser.add_argument("--output", type=Path, default=paths.RESULTS / "ab.json")
    return parser.parse_args(argv)


def side(spec):
    checkout, _, database = spec.rpartition(":")
    return Path(checkout).resolve(), database


def pages(database, only):
    """The public pages of bench/pages.py, resolved against `database` (its track, its project)."""
    os.environ.update(bench_env())
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{database}"
    import django

    django.setup()
    from bench import pages as bench_pages

    found = [page for page in bench_pages.build(*bench_pages.resolve()) if page.kind == "public"]
    keys = {key.strip() for key in only.split(",") if key.strip()}
    return [page for page in found if not keys or page.key in keys]


def script(page):
    return paths.BENCH / "manyclients.lua" if page.path.startswith("/data/") else None


def start(name, checkout, database, mode, workers):
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DBS[name]}" if mode == "redis" else ""
    env = bench_env(redis_url)
    # Clients by X-Forwarded-For (the benchmark plays one proxy): the downloads are measured
    # with every request from another address (bench/manyclients.lua), so that issue 15's
    # one-download-per-client limit measures the download rather than its 429 answers.
    env.update(
        DATABASE_URL=f"{PG_SERVER}/{database}", PYTHONPATH=str(checkout), BENCH_FLOOR_BYTES="1",
        TRUSTED_PROXY_COUNT="1",
    )  # fmt: skip
    log = paths.RESULTS / f"ab-{name}-{mode}.log"
    server = load.Server(env, PORTS[name], workers, log)
    server_root = paths.ROOT
    paths.ROOT = checkout  # Server runs gunicorn in paths.ROOT
    try:
        server.__enter__()
    finally:
        paths.ROOT = server_root
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return server


def measure(args):
    checkouts = {"before": side(args.before), "after": side(args.after)}
    for name, (checkout, database) in checkouts.items():
        with psycopg.connect(f"{PG_SERVER}/{database}") as conn:
            conn.execute("SELECT 1 FROM registry_project LIMIT 1")
        print(
            f"{name}: {checkout} ({subprocess.run(['git', '-C', str(checkout), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}), database {database}"
        )
    measured = pages(checkouts["after"][1], args.only)
    results = {}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        servers = {name: start(name, *checkouts[name], mode, args.workers) for name in checkouts}
        try:
            for page in measured:  # warm both (connections, caches, fragments)
                for name in servers:
                    load.wrk(
                        PORTS[name], page.path, concurrency=args.concurrency, duration=1, script=script(page)
                    )
            for round_number in range(args.rounds):
                order = ["before", "after"] if round_number % 2 == 0 else ["after", "before"]
                for page in measured:
                    for name in order:
                        load.wait_quiet(10)
                        result = load.wrk(
                            PORTS[name], page.path, concurrency=args.concurrency, duration=args.duration,
                            script=script(page),
                        )  # fmt: skip
                        results.setdefault(mode, {}).setdefault(page.key, {}).setdefault(name, []).append(
                            result
                        )
                        print(f"  {mode:7} round {round_number + 1} {page.key:16} {name:6} "
                              f"{result['rps']:8.1f} req/s  p95 {result['p95']:7.1f} ms"
                              f"  non-2xx {result['non_2xx']}", flush=True)  # fmt: skip
        finally:
            for server in servers.values():
                server.__exit__(None, None, None)
    labels = {page.key: page.label for page in measured}
    return results, labels


def report(results, labels):
    lines = []
    for mode, by_page in results.items():
        lines += [
            f"\n{mode}: median of the rounds (req/s; p95 ms)",
            "| page | before req/s | after req/s | change | before p95 | after p95 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, sides in by_page.items():
            rps = {name: statistics.median(r["rps"] for r in runs) for name, runs in sides.items()}
            p95 = {name: statistics.median(r["p95"] for r in runs) for name, runs in sides.items()}
            change = rps["after"] / rps["before"] - 1
            lines.append(
                f"| {labels[key]} | {rps['before']:,.1f} | {rps['after']:,.1f} | {change:+.1%} "
                f"| {p95['before']:,.0f} | {p95['after']:,.0f} |"
            )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results, labels = measure(args)
    args.output.write_text(json.dumps({"args": vars(args) | {"output": str(args.output)}, "labels": labels,
                                       "results": results}, indent=1, default=str))  # fmt: skip
    print(report(results, labels))
    print(f"\n({(time.time() - started) / 60:.1f} min; raw figures in {args.output})")


if __name__ == "__main__":
    main()
