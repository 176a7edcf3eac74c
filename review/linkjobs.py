"""The link checks: does each public listing's website still answer? (PRODUCT.md, "Keeping
the map true over time"). The scheduler enqueues `check_links` (review.schedule); it checks
the listings that are due (`due`) with review.linkcheck.check and records each result in the
listing's review.models.LinkCheck row. A website that keeps failing, LINK_CHECK_GONE_FAILURES
checks in a row over at least LINK_CHECK_GONE_DAYS days, becomes one "unreachable" alert in
the editors' "maybe gone" queue (review.lifecycle.raise_link_alert). Nothing is closed
automatically, and an editor's false alarm silences the checks of that address until the
website changes.

The results live apart from the listing, in LinkCheck, and the checks never save a Project:
saving one moves the public pages' cache version (registry.published) and stamps
`updated_at`, and what a check finds changes no public page. Only an editor acting on an
alert changes the listing.

Politeness: the listings are grouped by host (host:port, as the address names it), a host
is checked by one thread at a time, and a host's next check starts at least
LINK_CHECK_HOST_INTERVAL_MS after its previous check ended (so its requests start at least
that far apart, however long an answer takes). While one host waits for its next turn, the
LINK_CHECK_CONCURRENCY threads check other hosts: a run takes about as long as the busiest
host's listings times the interval, not the sum over hosts. The threads only talk to the
network; the calling thread writes the results to the database, in batches, as they come.
"""

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from registry.models import Project
from review import lifecycle, linkcheck
from review.models import LinkCheck, PeriodicRun

logger = logging.getLogger("aimap.review.linkjobs")

WRITE_EVERY = 200  # results written in one transaction at most
WRITE_AFTER_SECONDS = 5.0  # and results never wait longer than this to be written
RESULT_FIELDS = ["url", "checked_at", "ok", "status_code", "final_url", "error", "failures", "failing_since"]


@dataclass
class Summary:
    checked: int = 0
    ok: int = 0
    failed: int = 0
    alerts: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Result:
    project_id: int
    url: str
    checked_at: object  # a datetime
    outcome: linkcheck.Outcome


# threading.Event, by another name: not an audit Event (tests/review/test_audit_trail.py scans for those).
StopFlag = threading.Event


def user_agent():
    """Names the checker, the site and the page that explains the checks to a site's owner."""
    return f"aimap-linkcheck/1 (+{settings.SITE_URL.rstrip('/')}{reverse('registry:about-review')})"


def due(now=None):
    """Public listings with a website to check now: never checked, checked at another address
    (the website changed), or last checked longer ago than LINK_CHECK_EVERY_DAYS (it answered)
    or LINK_CHECK_RETRY_HOURS (it did not); not those whose address an editor silenced.
    Never-checked first, then the oldest check first."""
    now = now or timezone.now()
    answered_before = now - timedelta(days=settings.LINK_CHECK_EVERY_DAYS)
    failed_before = now - timedelta(hours=settings.LINK_CHECK_RETRY_HOURS)
    return (
        Project.objects.published()
        .exclude(website="")
        .filter(
            Q(link_check__isnull=True)
            | ~Q(link_check__url=F("website"))
            | Q(link_check__ok=True, link_check__checked_at__lte=answered_before)
            | Q(link_check__ok=False, link_check__checked_at__lte=failed_before)
        )
        .exclude(link_check__silenced_url=F("website"))
        .order_by(F("link_check__checked_at").asc(nulls_first=True), "pk")
    )


def host_of(url):
    """The host:port an address reaches, lower-cased: the unit of politeness. A malformed
    address is its own group (the checker refuses it without a request)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url
    return f"{(parts.hostname or '').lower()}:{port}"


def check_due_links(now=None, limit=None):
    """Check at most `limit` (else LINK_CHECK_BATCH) due listings and record the results;
    returns a Summary. Does nothing when LINK_CHECKS is off. `now`: the time the checks count
    as made (tests replay days); by default each check's own time."""
    summary = Summary()
    if not settings.LINK_CHECKS:
        return summary
    started = time.monotonic()
    listings = list(due(now).values_list("pk", "website")[: limit or settings.LINK_CHECK_BATCH])
    results, stop = queue.SimpleQueue(), StopFlag()
    threads = _start_checkers(listings, results, now=now, stop=stop)
    pending, first_pending_at, running = [], None, len(threads)
    try:
        while running:
            try:
                result = results.get(timeout=1.0)
            except queue.Empty:
                result = False
            if result is None:  # a thread has finished
                running -= 1
            elif result:
                pending.append(result)
                first_pending_at = first_pending_at or time.monotonic()
            if pending and (
                len(pending) >= WRITE_EVERY
                or not running
                or time.monotonic() - first_pending_at >= WRITE_AFTER_SECONDS
            ):
                _record(pending, summary)
                pending, first_pending_at = [], None
    finally:
        stop.set()  # if writing failed: the threads start no further check
    for thread in threads:
        thread.join()
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _start_checkers(listings, results, *, now, stop):
    """Threads that check `listings` ((pk, website) pairs) host by host and put a _Result for
    each on `results`, then None when they stop (all done, or `stop` set). No database access
    here."""
    by_host = defaultdict(deque)
    for pk, website in listings:
        by_host[host_of(website)].append((pk, website))
    interval = settings.LINK_CHECK_HOST_INTERVAL_MS / 1000
    options = {
        "user_agent": user_agent(),
        "timeout": settings.LINK_CHECK_TIMEOUT,
        "max_redirects": settings.LINK_CHECK_MAX_REDIRECTS,
        "allow_loopback": settings.LINK_CHECK_ALLOW_LOOPBACK,
    }
    # Hosts waiting for their turn: (not before, order, host). A host being checked is not
    # here, so no two threads ever ask one host at once.
    orders = itertools.count()
    ready = [(0.0, next(orders), host) for host in by_host]  # already in order: a heap
    lock = threading.Condition()
    busy = [0]

    def next_host():
        with lock:
            while True:
                if stop.is_set():
                    return None
                if not ready:
                    if not busy[0]:
                        return None  # nothing left, and nothing being checked will come back
                    lock.wait()
                    continue
                wait = ready[0][0] - time.monotonic()
                if wait <= 0:
                    busy[0] += 1
                    return heapq.heappop(ready)[2]
                lock.wait(wait)

    def give_back(host):
        with lock:
            busy[0] -= 1
            if by_host[host]:  # its next turn: the interval after this check ended
                heapq.heappush(ready, (time.monotonic() + interval, next(orders), host))
            lock.notify_all()

    def work():
        try:
            while (host := next_host()) is not None:
                pk, website = by_host[host].popleft()
                try:
                    checked_at = now or timezone.now()
                    outcome = linkcheck.check(website, **options)
                    results.put(_Result(pk, website, checked_at, outcome))
                except Exception:  # a bug, not the network: no result, due again next run
                    logger.exception("Link check of project %s (%s) failed", pk, website)
                finally:
                    give_back(host)
        finally:
            results.put(None)

    threads = [
        threading.Thread(target=work, name=f"linkcheck-{number}", daemon=True)
        for number in range(min(settings.LINK_CHECK_CONCURRENCY, len(by_host)))
    ]
    for thread in threads:
        thread.start()
    return threads


def _record(results, summary):
    """Write a batch of results (one transaction), then raise the alerts they call for."""
    gone_after = timedelta(days=settings.LINK_CHECK_GONE_DAYS)
    alerts = []
    with transaction.atomic():
        rows = {
            row.project_id: row
            for row in LinkCheck.objects.select_for_update()
            .filter(project_id__in=[result.project_id for result in results])
            .order_by("pk")
        }
        changed, created = [], []
        for result in results:
            outcome, row = result.outcome, rows.get(result.project_id)
            if row is not None and row.silenced_url == result.url:
                continue  # an editor called this address a false alarm while it was checked
            if row is None:
                row = LinkCheck(project_id=result.project_id)
                created.append(row)
            else:
                changed.append(row)
            if row.pk is None or row.url != result.url:  # a new address: its count starts afresh
                row.failures, row.failing_since = 0, None
            row.url, row.checked_at, row.ok = result.url, result.checked_at, outcome.ok
            row.status_code, row.final_url = outcome.status, outcome.final_url[:2000]
            row.error = outcome.error[:300]
            summary.checked += 1
            if outcome.ok:
                row.failures, row.failing_since = 0, None
                summary.ok += 1
                continue
            row.failures += 1
            row.failing_since = row.failing_since or result.checked_at
            summary.failed += 1
            if (
                row.failures >= settings.LINK_CHECK_GONE_FAILURES
                and row.failing_since <= result.checked_at - gone_after
            ):
                alerts.append((result.project_id, outcome.error))
        if changed:
            LinkCheck.objects.bulk_update(changed, RESULT_FIELDS)
        if created:  # an upsert: a run started meanwhile may have written the row first
            LinkCheck.objects.bulk_create(
                created, update_conflicts=True, unique_fields=["project"], update_fields=RESULT_FIELDS
            )
    for project_id, error in alerts:
        if lifecycle.raise_link_alert(project_id, error=error) is not None:
            summary.alerts += 1


# One run at a time, whatever the number of workers: a run holds this lease (a PeriodicRun
# row whose time is when the lease ends) and gives it back when done; a worker killed
# mid-run frees it after LEASE_HOLD.
LEASE = "link_checks:running"
LEASE_HOLD = timedelta(hours=2)


def take_lease(now=None):
    now = now or timezone.now()
    try:
        with transaction.atomic():
            PeriodicRun.objects.get_or_create(name=LEASE, defaults={"next_run_at": now})
    except IntegrityError:  # made by another worker at the same moment
        pass
    taken = PeriodicRun.objects.filter(name=LEASE, next_run_at__lte=now).update(
        next_run_at=now + LEASE_HOLD, last_enqueued_at=now
    )
    return taken == 1


def give_back_lease():
    PeriodicRun.objects.filter(name=LEASE).update(next_run_at=timezone.now())


@task()
def check_links():
    """The worker's side (enqueued by the scheduler): check the due listings; the summary.
    While another run holds the lease (a slow run, a second worker), nothing is checked twice."""
    if not take_lease():
        return {"skipped": "another run is checking"}
    try:
        return asdict(check_due_links())
    finally:
        give_back_lease()
