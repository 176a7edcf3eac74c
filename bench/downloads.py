"""The downloads under load (issue 15), on the benchmark database (100,000 public projects).

1. Writing the whole map's files as the task does (registry.downloadfiles.write): seconds,
   sizes, and the process's peak memory growth.
2. gunicorn (production settings) and wrk at concurrency 8 on /data/projects.csv: full
   downloads per second served from the file, plain and gzip; and, for comparison, written
   in the request as before (DOWNLOAD_FILES=0), with each request from another client
   address so that the per-client limit does not apply.
3. One client asking for filtered downloads at concurrency 8 while another browses
   /projects/: how many of the first one's downloads run at once (at most one), what the
   rest get (429), and the second client's pages per second beside it and alone.

`python -m bench.downloads` runs it alone (the database must be seeded: `make bench` once);
bench/run.py runs it after the pages.
"""

import json
import os
import resource
import subprocess
import sys
import time

from bench import load, paths

FILE = "/data/projects.csv"
FILTERED = "/data/projects.csv?q=assistant"  # several thousand rows: seconds of writing
BROWSE = "/projects/?page=2"
MANY_CLIENTS = paths.BENCH / "manyclients.lua"
CLIENT_A = {"X-Forwarded-For": "203.0.113.10"}
CLIENT_B = {"X-Forwarded-For": "203.0.113.20"}


def write_files(say):
    """Write the files in this process (Django set up with the server's settings)."""
    from registry import downloadfiles
    from registry.models import DownloadFile

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    written = {}
    for name in downloadfiles.FORMATS:
        started = time.perf_counter()
        DownloadFile.objects.filter(format=name).delete()  # written afresh, not "unchanged"
        found = downloadfiles.write(name)
        seconds = time.perf_counter() - started
        written[name] = {
            "rows": found.rows,
            "seconds": seconds,
            "mb": found.size / 1e6,
            "gzip_mb": found.gzip_size / 1e6,
        }
        say(
            f"  {name}: {found.rows:,} rows in {seconds:.1f} s, {found.size / 1e6:.1f} MB "
            f"(gzip {found.gzip_size / 1e6:.1f} MB)"
        )
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    say(f"  peak memory growth of the writing process: {growth:.0f} MB")
    return {"formats": written, "peak_growth_mb": growth}


def _run(port, path, concurrency, duration, headers=None, script=None):
    result = load.wrk(port, path, concurrency=concurrency, duration=duration, headers=headers, script=script)
    result["ok"] = result["requests"] - result["non_2xx"]
    result["ok_per_s"] = result["rps"] * result["ok"] / result["requests"] if result["requests"] else 0.0
    return result


def measure(env, port, workers, say, duration=10):
    env = dict(env, TRUSTED_PROXY_COUNT="1")  # the benchmark plays the proxy: clients by header
    results = {"workers": workers, "duration": duration}
    say("\nDownloads: the whole map from its file (registry.downloadfiles):")
    results["write"] = write_files(say)

    with load.Server(env, port, workers=workers, log=paths.RESULTS / "gunicorn-downloads.log"):
        status, _body = load.get(port, FILE, headers={"Accept-Encoding": "identity", **CLIENT_A})
        assert status == 200, status
        for label, headers in (("plain", {}), ("gzip", {"Accept-Encoding": "gzip"})):
            load.wait_quiet(60)
            result = _run(port, FILE, 8, duration, headers={**CLIENT_A, **headers})
            results[f"file_{label}"] = result
            say(
                f"  c=8 {label}: {result['ok_per_s']:.1f} downloads/s, p50 {result['p50']:.0f} ms, "
                f"p95 {result['p95']:.0f} ms, {result['mb_per_s']:.0f} MB/s, errors {result['errors']}"
            )

        say("\nOne client's filtered downloads beside another client browsing:")
        load.wait_quiet(60)
        alone = _run(port, BROWSE, 4, duration, headers=CLIENT_B)
        say(
            f"  client B alone, c=4 {BROWSE}: {alone['rps']:.1f} req/s, p95 {alone['p95']:.0f} ms, errors {alone['errors']}"
        )
        load.wait_quiet(60)
        command = [sys.executable, "-c", _HAMMER, str(port), FILTERED, json.dumps(CLIENT_A), str(duration)]
        hammer = subprocess.Popen(command, cwd=paths.ROOT, stdout=subprocess.PIPE, text=True)
        beside = _run(port, BROWSE, 4, duration, headers=CLIENT_B)
        statuses = json.loads(hammer.communicate(timeout=duration + 300)[0])
        results["limit"] = {"browse_alone": alone, "browse_beside": beside, "hammer": statuses}
        say(
            f"  client A, 8 connections asking for {FILTERED} for {duration} s: "
            f"{statuses['200']} downloads (at most {statuses['max_at_once']} at once), "
            f"{statuses['429']} answered 429, other {statuses['other']}"
        )
        say(
            f"  client B beside it: {beside['rps']:.1f} req/s, p95 {beside['p95']:.0f} ms, errors {beside['errors']}"
        )

    say("\nThe whole map written in the request, as before (DOWNLOAD_FILES=0), 8 clients:")
    streamed_env = dict(env, DOWNLOAD_FILES="0")
    with load.Server(streamed_env, port, workers=workers, log=paths.RESULTS / "gunicorn-downloads.log"):
        load.wait_quiet(60)
        result = _run(port, FILE, 8, max(duration, 30), script=MANY_CLIENTS)
        results["streamed"] = result
        say(
            f"  c=8: {result['ok_per_s']:.2f} downloads/s, p50 {result['p50']:.0f} ms, "
            f"errors {result['errors']} (429: {result['non_2xx']})"
        )
    return results


# Client A: 8 connections, each asking again as soon as it has an answer (no Retry-After
# honoured), for `duration` seconds; prints how many 200s and 429s, and the most 200s whose
# transfers overlapped.
_HAMMER = r"""
import http.client, json, sys, threading, time
port, path, headers, duration = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
headers = {"X-Forwarded-Proto": "https", **headers}
counts = {"200": 0, "429": 0, "other": 0}
spans, lock, stop = [], threading.Lock(), time.monotonic() + duration
def client():
    while time.monotonic() < stop:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.monotonic()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        with lock:
            key = str(response.status) if response.status in (200, 429) else "other"
            counts[key] += 1
            if response.status == 200:
                spans.append((started, time.monotonic()))
threads = [threading.Thread(target=client) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
at_once = most = 0
for _, step in edges:
    at_once += step
    most = max(most, at_once)
print(json.dumps({**counts, "max_at_once": most}))
"""


def main():
    from bench import database, run

    env = run.bench_env()
    database.manage(env, "migrate", "--noinput", log=paths.RESULTS / "seed.log")
    database.manage(env, "collectstatic", "--noinput", log=paths.RESULTS / "collectstatic.log")
    for key in run.CLEARED:
        os.environ.pop(key, None)
    os.environ.update(env)
    import django

    django.setup()
    paths.RESULTS.mkdir(parents=True, exist_ok=True)
    workers = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1))
    results = measure(env, 8790, workers, lambda message: print(message, flush=True))
    (paths.RESULTS / "downloads.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
