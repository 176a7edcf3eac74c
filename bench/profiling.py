"""Where the time goes, measured in-process (no load): each page through Django's test
client, its queries and their times, EXPLAIN (ANALYZE, BUFFERS) of the slowest ones and a
cProfile of the slowest pages. Needs Django set up with the benchmark's settings."""

import cProfile
import io
import pstats
import re
import statistics
import time

from bench import load, paths

STAFF_USERNAME = "bench-staff"
HEADERS = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}


def staff_session():
    """A session key for a staff superuser, as if they had logged in (the admin references)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()
    user, _created = User.objects.get_or_create(
        username=STAFF_USERNAME, defaults={"email": f"{STAFF_USERNAME}@example.com"}
    )
    if not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _client(session=None):
    from django.conf import settings
    from django.test import Client

    client = Client(**HEADERS)
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def _fetch(client, path):
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    if response.status_code != 200:
        raise SystemExit(f"bench: {path} answered {response.status_code} in-process")
    return body


def page_size(path):
    return len(_fetch(_client(), path))


def profile_pages(pages, session, *, repeat, say):
    """{key: {median_ms, queries, sql_ms, slowest: [(ms, sql)]}} for every page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    for page in pages:
        if page.kind == "floor":
            continue
        client = _client(session if page.kind == "admin" else None)
        _fetch(client, page.path)  # warm: templates, caches, the connection
        load.wait_quiet(10)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            _fetch(client, page.path)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            _fetch(client, page.path)
        queries = sorted(
            ((float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries), key=lambda q: -q[0]
        )
        results[page.key] = {
            "median_ms": statistics.median(times),
            "min_ms": min(times),  # the least disturbed by other work on the machine
            "queries": len(queries),
            "sql_ms": sum(ms for ms, _sql in queries),
            "slowest": queries[:3],
        }
        say(
            f"  {page.key:<18} {results[page.key]['median_ms']:8.1f} ms, "
            f"{len(queries):2d} queries, SQL {results[page.key]['sql_ms']:7.1f} ms"
        )
    return results


SERVER_CURSOR = re.compile(r"^DECLARE \S+ (NO )?(SCROLL )?CURSOR (WITH(OUT)? HOLD )?FOR ", re.IGNORECASE)


def explain(sql):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def explain_slowest(pages, profile, *, public=5, admin=1, minimum_ms=10, say):
    """EXPLAIN ANALYZE of the slowest query of the public pages whose slowest query is the
    slowest (at most `public` of them, each over `minimum_ms`), and of `admin` admin pages."""
    plans = []
    for kind, count in (("public", public), ("admin", admin)):
        candidates = [
            page
            for page in pages
            if page.kind == kind
            and profile.get(page.key, {}).get("slowest")
            and profile[page.key]["slowest"][0][0] >= minimum_ms
        ]
        candidates.sort(key=lambda page: -profile[page.key]["slowest"][0][0])
        for page in candidates[:count]:
            ms, sql = profile[page.key]["slowest"][0]
            sql = SERVER_CURSOR.sub("", sql.strip())  # a streamed export's query, as a plain SELECT
            if not sql.upper().startswith("SELECT"):
                continue
            plan = explain(sql)
            (paths.RESULTS / f"explain-{page.key}.txt").write_text(f"{sql}\n\n{plan}\n")
            plans.append({"page": page.key, "query_ms": ms, "sql": sql, "plan": plan})
            say(f"  EXPLAIN ANALYZE for {page.key}: slowest query {ms:.1f} ms")
    return plans


def cprofile_slowest(pages, profile, *, count, always=("list",), say):
    """cProfile of the `count` slowest public pages and of the `always` ones; the top
    functions go to bench/results/."""
    public = [page for page in pages if page.kind == "public" and page.key in profile]
    public.sort(key=lambda page: -profile[page.key]["median_ms"])
    chosen = public[:count] + [page for page in public[count:] if page.key in always]
    files = []
    for page in chosen:
        client = _client()
        _fetch(client, page.path)  # warm: the handler, middleware and templates
        load.wait_quiet(10)
        profiler = cProfile.Profile()
        profiler.enable()
        _fetch(client, page.path)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        path = paths.RESULTS / f"profile-{page.key}.txt"
        path.write_text(out.getvalue())
        files.append(str(path.relative_to(paths.ROOT)))
        say(f"  cProfile of {page.key}: {path.relative_to(paths.ROOT)}")
    return files
