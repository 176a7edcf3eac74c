"""Health checks for the proxy, the orchestrator and the people on call (JSON, never cached,
nothing about versions, hosts or settings in the body).

- /healthz: the process answers. It touches nothing else, so a slow database does not get
  healthy app servers restarted.
- /readyz: the process can serve: the database answers, the cache stores and reads back,
  and the oldest task waiting for the worker (emails) has not waited longer than
  READY_MAX_TASK_WAIT seconds (a stopped worker shows here). 200 when all hold, else 503
  with the check that failed.
"""

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0] == 1


def _cache():
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    try:
        return cache.get(key) == value
    finally:
        cache.delete(key)


def _oldest_task_wait():
    """Seconds the oldest task due to run has waited (0 when none waits)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    waiting = DBTaskResult.objects.filter(status="READY")
    # A task to run at once is stored with the largest date as its run_after (django-tasks-db's
    # get_date_max()): it has waited since it was enqueued; a deferred one since its run_after.
    at_once = waiting.filter(run_after=get_date_max()).aggregate(oldest=Min("enqueued_at"))["oldest"]
    deferred = waiting.filter(run_after__lte=now).aggregate(oldest=Min("run_after"))["oldest"]
    oldest = min((time for time in (at_once, deferred) if time is not None), default=None)
    return max(0, round((now - oldest).total_seconds())) if oldest else 0


def _check(function):
    started = time.perf_counter()
    try:
        result = function()
    except Exception:  # a failed check is an answer, never a 500 (and never its text)
        return None, round((time.perf_counter() - started) * 1000)
    return result, round((time.perf_counter() - started) * 1000)


@never_cache
@require_safe
def readyz(request):
    checks = {}
    database, checks_ms = _check(_database)
    checks["database"] = {"ok": bool(database), "ms": checks_ms}
    stored, checks_ms = _check(_cache)
    checks["cache"] = {"ok": bool(stored), "ms": checks_ms}
    waited, checks_ms = _check(_oldest_task_wait) if database else (None, 0)
    checks["tasks"] = {
        "ok": waited is not None and waited <= settings.READY_MAX_TASK_WAIT,
        "oldest_waiting_seconds": waited,
    }
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503)
