"""gunicorn on the loopback, wrk against it, and the full CSV export measured on its own."""

import csv
import http.client
import os
import shutil
import subprocess
import sys
import time

import psycopg

from bench import paths

HOST = "127.0.0.1"
FOREIGN_LIMIT = 0.05  # a measurement during which other work took more of the CPU is repeated
# The production settings redirect plain HTTP to HTTPS and trust this header from the TLS
# proxy in front of gunicorn; the benchmark plays that proxy.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def ensure_wrk(say):
    """wrk from Debian's packages, installed when missing; returns its version line."""
    if not shutil.which("wrk"):
        say("wrk is missing: apt-get install -y wrk")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        install = [*sudo, "apt-get", "install", "-y", "wrk"]
        if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run([*sudo, "apt-get", "update"], stdout=subprocess.DEVNULL)
            subprocess.run(install, stdout=subprocess.DEVNULL)
        if not shutil.which("wrk"):
            raise SystemExit("bench: wrk is needed (Debian: apt-get install wrk) and could not be installed.")
    version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (version.stdout or version.stderr).splitlines()[0].split(" Copyright")[0].strip()


def get(port, path, headers=None, timeout=300):
    """(status, body) of one GET, without following redirects."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """gunicorn serving aimap.wsgi with `env`, sync workers, on HOST:port."""

    def __init__(self, env, port, workers, log):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.process = None

    def __enter__(self):
        command = [
            sys.executable, "-m", "gunicorn", "aimap.wsgi:application",
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", "sync",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "--log-level", "warning",
        ]  # fmt: skip
        self._log = open(self.log, "a")  # closed in __exit__
        self.process = subprocess.Popen(
            command, cwd=paths.ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: gunicorn stopped at start-up; see {self.log}")
            try:
                status, _body = get(self.port, "/bench/floor/", timeout=5)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit(f"bench: gunicorn did not answer within 60 s; see {self.log}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def wait_idle(self, database_url, timeout=300):
        """Wait until no worker uses CPU and the database runs no query: gunicorn's sync
        workers finish the requests wrk left queued when it stopped, and those must not
        slow down the next measurement. Returns the seconds waited."""
        started = time.monotonic()
        quiet = 0
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() - started < timeout:
                before = _cpu_ticks(self.worker_pids())
                time.sleep(0.2)
                after = _cpu_ticks(self.worker_pids())
                active = conn.execute(ACTIVE_QUERIES, [conn.info.dbname]).fetchone()[0]
                quiet = quiet + 1 if before == after and not active else 0
                if quiet >= 2:
                    break
        return time.monotonic() - started

    def worker_pids(self):
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                return [int(child) for child in children.read().split()]
        except OSError:
            return []


ACTIVE_QUERIES = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()"


def _cpu_ticks(pids):
    """Total user and system CPU ticks of `pids` (fields 14 and 15 of /proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def memory_kb(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of a process."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


OURS = {"redis-server", "wrk", "curl"}  # besides gunicorn, this process and PostgreSQL's (below)


def _cpu_times():
    """(busy, all) CPU ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def _postgres_is_ours(pid, database):
    """PostgreSQL's shared processes (checkpointer, parallel workers...) and the backends
    connected to `database` are the benchmark's; backends of other databases are not."""
    try:
        with open(f"/proc/{pid}/cmdline") as cmdline:
            title = cmdline.read().replace("\0", " ")
    except OSError:
        return True
    words = title.split()
    # A backend's title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE".
    if len(words) >= 5 and "(" in words[4]:
        return words[3] == database
    return True


def _foreign_ticks(ours, database):
    """{pid: CPU ticks} of the user-space processes that are not the benchmark's: not
    `ours` (pids), Redis or wrk, not PostgreSQL serving `database`, not kernel threads."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in ours:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 1 :].split()
        if comm in OURS or entry == "2" or fields[1] == "2":
            continue
        if comm == "postgres" and _postgres_is_ours(entry, database):
            continue
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    return ticks


class CpuMeter:
    """How much CPU the machine spent during a measurement on work other than the
    benchmark's (gunicorn, PostgreSQL, Redis, wrk): such work skews the figures, and the
    report marks them. Processes that start and end within the measurement are missed."""

    def __init__(self, server):
        self.server = server
        self.database = server.env["DATABASE_URL"].rstrip("/").rsplit("/", 1)[-1]

    def _ours(self):
        return {os.getpid(), self.server.process.pid, *self.server.worker_pids()}

    def __enter__(self):
        self.busy, self.all = _cpu_times()
        self.foreign = _foreign_ticks(self._ours(), self.database)
        return self

    def __exit__(self, *exc):
        busy, everything = _cpu_times()
        foreign = _foreign_ticks(self._ours(), self.database)
        spent = sum(ticks - self.foreign.get(pid, 0) for pid, ticks in foreign.items())
        elapsed = max(1, everything - self.all)
        self.busy_share = (busy - self.busy) / elapsed
        self.foreign_share = min(1.0, max(0, spent) / elapsed)


def wait_quiet(timeout, threshold=0.10):
    """Wait (at most `timeout` s) until the machine is nearly idle: busy under `threshold`
    of its CPUs for half a second. Returns (seconds waited, busy share when it stopped)."""
    started = time.monotonic()
    while True:
        busy0, all0 = _cpu_times()
        time.sleep(0.5)
        busy1, all1 = _cpu_times()
        share = (busy1 - busy0) / max(1, all1 - all0)
        if share < threshold or time.monotonic() - started > timeout:
            return time.monotonic() - started, share


def wrk(port, path, *, concurrency, duration, headers=None, server=None, script=None):
    """One wrk run: requests per second and latency percentiles (ms); with `server`, also
    the share of the machine's CPU that went to other work meanwhile. `script`: a wrk Lua
    script of ours that loads report.lua (default: report.lua alone)."""
    command = [
        "wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{duration}s",
        "--timeout", "30s", "-s", str(script or paths.WRK_SCRIPT),
    ]  # fmt: skip
    for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{path}")
    if server is None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90, cwd=paths.ROOT)
    else:
        with CpuMeter(server) as meter:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=duration + 90, cwd=paths.ROOT
            )
    raw = {}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            key, _, value = line[6:].partition("=")
            raw[key] = int(value)
    if "requests" not in raw:
        raise SystemExit(f"bench: wrk failed on {path}:\n{done.stdout}\n{done.stderr}")
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[key] for key in raw if key.startswith("errors_"))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50": raw["p50"] / 1000,
        "p90": raw["p90"] / 1000,
        "p95": raw["p95"] / 1000,
        "p99": raw["p99"] / 1000,
        "mean": raw["mean"] / 1000,
        "max": raw["max"] / 1000,
        "errors": errors,
        "non_2xx": raw["errors_status"],
        "mb_per_s": raw["bytes"] / seconds / 1e6 if seconds else 0.0,
        "cpu_busy": meter.busy_share if server else None,
        "cpu_foreign": meter.foreign_share if server else None,
    }


def count_csv_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _row in csv.reader(handle)) - 1  # minus the header


def measure_export(env, port, path, log, say, runs=2, retries=2):
    """The full CSV export from a single-worker gunicorn: rows per second (curl as the
    client) and the worker's peak memory growth (VmHWM after minus VmRSS before)."""
    out = paths.RESULTS / "export.csv"
    with Server(env, port, workers=1, log=log) as server:
        # Load the code, templates and database connection first, with an export of no rows,
        # so that the growth measured is the export's own.
        get(port, "/projects/")
        get(port, path + ("&" if "?" in path else "?") + "q=no-such-project-anywhere")
        worker = server.worker_pids()[0]
        before = memory_kb(worker)
        results = []
        for number in range(1, runs + 1):
            for _attempt in range(retries + 1):
                wait_quiet(120)
                with CpuMeter(server) as meter:
                    curl = subprocess.run(
                        ["curl", "-sS", "--max-time", "900", "-o", str(out),
                         "-H", "X-Forwarded-Proto: https",
                         "-w", "%{http_code} %{time_starttransfer} %{time_total} %{size_download}",
                         f"http://{HOST}:{port}{path}"],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                if meter.foreign_share <= FOREIGN_LIMIT:
                    break
                say(f"  (other work took {meter.foreign_share:.0%} of the CPU: export run {number} again)")
            status, first_byte, total, size = curl.stdout.split()
            rows = count_csv_rows(out)
            seconds = float(total)
            results.append(
                {
                    "status": int(status),
                    "rows": rows,
                    "seconds": seconds,
                    "first_byte_s": float(first_byte),
                    "bytes": int(size),
                    "rows_per_s": rows / seconds if seconds else 0.0,
                    "rss_after_mb": memory_kb(worker)["VmRSS"] / 1024,
                    "cpu_foreign": meter.foreign_share,
                }
            )
            say(f"  export run {number}: {rows} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
        after = memory_kb(worker)
    out.unlink(missing_ok=True)
    return {
        "path": path,
        "runs": results,
        "rss_before_mb": before["VmRSS"] / 1024,
        "hwm_before_mb": before["VmHWM"] / 1024,
        "hwm_after_mb": after["VmHWM"] / 1024,
        "peak_growth_mb": max(0, after["VmHWM"] - before["VmRSS"]) / 1024,
    }
