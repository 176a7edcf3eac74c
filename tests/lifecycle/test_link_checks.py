"""The link checks (review.linkjobs): which listings are due, what a run records, when a
website that keeps failing becomes an alert in the editors' "maybe gone" queue, an editor's
false alarm, the per-host spacing, and that a run changes no public page.

Every request goes to servers these tests start on 127.0.0.1 (port 0, daemon threads, shut
down after). The `connections` fixture (autouse) records each connection the checker opens,
refuses any address but 127.0.0.1 and fails the test if one was attempted.
"""

import itertools
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from registry import pagecache
from registry.models import Project
from review import lifecycle, linkcheck
from review.linkjobs import Summary, check_due_links, check_links, due
from review.models import Concern, LinkCheck
from tests.base import make_project
from tests.review.workflow_builders import make_editor

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
METADATA = "http://169.254.169.254/latest/meta-data/"
PAUSE = 1.0  # seconds a /pause answer takes


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    user_agent: str


@pytest.fixture(autouse=True)
def connections(monkeypatch):
    """Every (ip, port) the checker tried to connect to; only 127.0.0.1 is let through (::1,
    which "localhost" may also name, is refused here: the test servers listen on 127.0.0.1)."""
    opened = []
    real = linkcheck._connect

    def watched(ip, port, timeout):
        opened.append((ip, port))
        if ip != "127.0.0.1":
            raise ConnectionRefusedError(f"the test refused a connection to {ip}")
        return real(ip, port, timeout)

    monkeypatch.setattr(linkcheck, "_connect", watched)
    yield opened
    assert {ip for ip, _port in opened} <= {"127.0.0.1", "::1"}, f"the checker tried to connect to {opened}"


@pytest.fixture(autouse=True)
def checks_on(settings):
    """Link checks on, against loopback servers; quick timeouts; no spacing unless a test sets it."""
    settings.LINK_CHECKS = True
    settings.LINK_CHECK_ALLOW_LOOPBACK = True
    settings.LINK_CHECK_TIMEOUT = 1
    settings.LINK_CHECK_HOST_INTERVAL_MS = 0
    settings.SITE_URL = "https://aimap.example"
    return settings


def respond(path, status, stopping):
    """The test servers' answers, by path: (status, headers), or None to hang up."""
    if path.startswith("/slow"):
        stopping.wait(3)  # longer than LINK_CHECK_TIMEOUT; the teardown lets it go
        return 200, {}
    if path.startswith("/pause"):
        time.sleep(PAUSE)  # within the timeout the test sets
        return 200, {}
    if path.startswith("/missing"):
        return 404, {}
    if path.startswith("/broken"):
        return 500, {}
    if path.startswith("/loop"):
        return 302, {"Location": "/loop"}
    if path.startswith("/metadata"):
        return 302, {"Location": METADATA}  # named only: the checker must never go there
    if path.startswith("/switch"):
        return status["now"], {}
    return 200, {}


class Site:
    """A server on 127.0.0.1: `url(path)`, the requests it saw, and `status["now"]` for /switch."""

    def __init__(self, stopping):
        self.seen, self.status = [], {"now": 200}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                self.answer()

            def do_GET(self):
                self.answer()

            def answer(self):
                site.seen.append(Seen(time.monotonic(), self.command, self.path, self.headers["User-Agent"]))
                answer = respond(self.path, site.status, stopping)
                status, extra = answer
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                body = b"" if self.command == "HEAD" else b"hello"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path="/", host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def paths(self):
        return [seen.path for seen in self.seen]


@pytest.fixture
def sites():
    """start() -> a new Site; all are shut down after the test."""
    started, stopping = [], threading.Event()

    def start():
        site = Site(stopping)
        started.append(site)
        return site

    yield start
    stopping.set()
    for site in started:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def site(sites):
    return sites()


def check_of(project):
    return LinkCheck.objects.get(project=project)


def open_alerts(project):
    return Concern.objects.filter(project=project, state=Concern.State.OPEN, source=Concern.Source.LINK_CHECK)


class TestWhatARunRecords:
    def test_it_records_a_website_that_answers(self, site):
        project = make_project(website=site.url("/ok"))
        summary = check_due_links()
        found = check_of(project)
        assert (found.ok, found.status_code, found.error, found.failures) == (True, 200, "", 0)
        assert found.url == found.final_url == site.url("/ok")
        assert site.paths() == ["/ok"]
        assert (summary.checked, summary.ok, summary.failed, summary.alerts) == (1, 1, 0, 0)
        assert not Concern.objects.exists()

    @pytest.mark.parametrize("path, status", [("/missing", 404), ("/broken", 500)])
    def test_it_records_an_error_status(self, site, path, status):
        project = make_project(website=site.url(path))
        summary = check_due_links()
        found = check_of(project)
        assert (found.ok, found.status_code, found.error) == (False, status, f"HTTP {status}")
        assert (found.failures, found.failing_since) == (1, found.checked_at)
        assert (summary.checked, summary.ok, summary.failed) == (1, 0, 1)
        assert not Concern.objects.exists()  # one failure is no alert

    def test_it_records_a_server_that_does_not_answer_in_time(self, site):
        project = make_project(website=site.url("/slow"))
        check_due_links()
        found = check_of(project)
        assert (found.ok, found.status_code, found.error) == (False, None, "timed out")

    def test_it_records_a_redirect_loop(self, site):
        project = make_project(website=site.url("/loop"))
        check_due_links()
        found = check_of(project)
        assert (found.ok, found.status_code, found.error) == (False, 302, "too many redirects")
        assert len(site.seen) == 6  # the first request and five redirects

    def test_it_refuses_a_redirect_to_the_metadata_address_without_connecting(self, site, connections):
        project = make_project(website=site.url("/metadata"))
        check_due_links()
        found = check_of(project)
        assert not found.ok
        assert found.error == "refused address 169.254.169.254 (link-local)"
        assert found.final_url == METADATA
        assert {ip for ip, _port in connections} == {"127.0.0.1"}  # never 169.254.169.254

    def test_it_refuses_the_loopback_outside_the_tests(self, site, settings):
        settings.LINK_CHECK_ALLOW_LOOPBACK = False
        project = make_project(website=site.url("/ok", host="localhost"))
        check_due_links()
        found = check_of(project)
        assert not found.ok
        assert found.error.startswith("refused address ") and found.error.endswith("(loopback)")
        assert site.seen == []

    def test_it_names_the_site_and_its_about_page_to_the_servers(self, site):
        make_project(website=site.url("/ok"))
        check_due_links()
        (seen,) = site.seen
        assert seen.user_agent == "aimap-linkcheck/1 (+https://aimap.example/about/review/)"

    def test_it_checks_nothing_when_link_checks_are_off(self, site, settings):
        settings.LINK_CHECKS = False
        make_project(website=site.url("/ok"))
        assert check_due_links() == Summary()
        assert site.seen == []
        assert not LinkCheck.objects.exists()

    def test_it_never_checks_unpublished_scheduled_or_addressless_listings(self, site):
        make_project(published=False, website=site.url("/hidden"))
        make_project(website=site.url("/later"), published_at=timezone.now() + DAY)
        make_project(website="")
        public = make_project(website=site.url("/public"))
        summary = check_due_links()
        assert site.paths() == ["/public"]
        assert list(LinkCheck.objects.values_list("project", flat=True)) == [public.pk]
        assert summary.checked == 1

    def test_it_checks_at_most_the_limit_never_checked_first(self, site):
        first, *_never_checked = (make_project(website=site.url(f"/ok/{n}")) for n in range(3))
        LinkCheck.objects.create(
            project=first, url=first.website, checked_at=timezone.now() - 30 * DAY, ok=True
        )
        summary = check_due_links(limit=2)
        assert summary.checked == 2
        assert sorted(site.paths()) == ["/ok/1", "/ok/2"]  # the two never checked
        assert check_of(first).checked_at < timezone.now() - 29 * DAY

    def test_a_checker_bug_loses_that_listing_only_and_is_logged(self, site, monkeypatch, caplog):
        broken = make_project(website=site.url("/ok/bug"))
        fine = make_project(website=site.url("/ok/fine"))
        real = linkcheck.check

        def buggy(url, **options):
            if url.endswith("/bug"):
                raise RuntimeError("a bug")
            return real(url, **options)

        monkeypatch.setattr(linkcheck, "check", buggy)
        summary = check_due_links()
        assert summary.checked == 1 and check_of(fine).ok
        assert not LinkCheck.objects.filter(project=broken).exists()  # due again next run
        assert broken in due()
        assert "Link check of project" in caplog.text

    def test_the_task_returns_the_summary_as_data(self, site):
        make_project(website=site.url("/ok"))
        make_project(website=site.url("/missing"))
        result = check_links.enqueue()  # the immediate backend in the tests
        assert result.return_value == {
            "checked": 2,
            "ok": 1,
            "failed": 1,
            "alerts": 0,
            "seconds": pytest.approx(0, abs=5),
        }


class TestRepeatedFailures:
    def run_at(self, when):
        return check_due_links(now=when)

    def test_three_failures_over_eight_days_raise_one_alert(self, site):
        project = make_project(website=site.url("/missing"))
        start = timezone.now()
        self.run_at(start)
        self.run_at(start + 4 * DAY)
        summary = self.run_at(start + 8 * DAY)
        assert summary.alerts == 1
        (alert,) = open_alerts(project)
        assert alert.kind == Concern.Kind.UNREACHABLE and alert.message == "HTTP 404"
        found = check_of(project)
        assert (found.failures, found.failing_since) == (3, start)

    def test_three_failures_within_two_days_are_no_alert_yet(self, site):
        project = make_project(website=site.url("/missing"))
        start = timezone.now()
        for day in range(3):
            self.run_at(start + day * DAY)
        assert check_of(project).failures == 3
        assert not Concern.objects.exists()

    def test_a_fourth_failure_opens_no_second_alert(self, site):
        project = make_project(website=site.url("/missing"))
        start = timezone.now()
        for day in (0, 4, 8, 12):
            self.run_at(start + day * DAY)
        assert len(site.seen) == 4
        assert check_of(project).failures == 4
        assert Concern.objects.filter(project=project).count() == 1

    def test_a_success_in_between_starts_the_count_again(self, site):
        project = make_project(website=site.url("/switch"))
        start = timezone.now()
        site.status["now"] = 500
        self.run_at(start)
        self.run_at(start + 4 * DAY)
        site.status["now"] = 200
        self.run_at(start + 5 * DAY)
        assert (check_of(project).failures, check_of(project).failing_since) == (0, None)
        site.status["now"] = 500
        self.run_at(start + 13 * DAY)  # due again: answered 7 days before
        self.run_at(start + 14 * DAY)
        assert check_of(project).failures == 2
        assert not Concern.objects.exists()  # counted from the start, it would be 4 over 14 days
        self.run_at(start + 21 * DAY)
        assert open_alerts(project).count() == 1  # 3 in a row since day 13

    def test_a_new_website_starts_the_count_again(self, site):
        project = make_project(website=site.url("/missing"))
        start = timezone.now()
        self.run_at(start)
        self.run_at(start + 4 * DAY)
        Project.objects.filter(pk=project.pk).update(website=site.url("/broken"))
        self.run_at(start + 8 * DAY)
        found = check_of(project)
        assert (found.url, found.failures, found.failing_since) == (site.url("/broken"), 1, start + 8 * DAY)
        assert not Concern.objects.exists()


class TestFalseAlarms:
    def test_a_false_alarm_silences_that_address_until_the_website_changes(self, site):
        project = make_project(website=site.url("/missing"))
        start = timezone.now()
        for day in (0, 4, 8):
            check_due_links(now=start + day * DAY)
        (alert,) = open_alerts(project)
        lifecycle.resolve_concern(alert, by=make_editor(), state=Concern.State.FALSE_ALARM)
        requests = len(site.seen)

        assert check_due_links(now=start + 20 * DAY).checked == 0
        assert len(site.seen) == requests  # not asked again
        assert project not in due(start + 100 * DAY)

        project.website = site.url("/ok/new")
        project.save()
        summary = check_due_links(now=start + 21 * DAY)
        assert summary.checked == 1 and site.paths()[-1] == "/ok/new"
        assert check_of(project).ok


class TestWhatIsDue:
    def test_it_picks_listings_by_their_last_check(self):
        now = timezone.now()
        never = make_project(website="https://never.example/")
        fresh = make_project(website="https://fresh.example/")
        old = make_project(website="https://old.example/")
        failed = make_project(website="https://failed.example/")
        retry = make_project(website="https://retry.example/")
        moved = make_project(website="https://moved.example/new")
        for project, url, ago, ok in (
            (fresh, fresh.website, 6 * DAY, True),
            (old, old.website, 8 * DAY, True),
            (failed, failed.website, timedelta(hours=19), False),
            (retry, retry.website, timedelta(hours=21), False),
            (moved, "https://moved.example/old", timedelta(hours=1), True),
        ):
            LinkCheck.objects.create(project=project, url=url, checked_at=now - ago, ok=ok)
        found = list(due(now))
        assert found[0] == never  # never checked first
        assert found[1:] == [old, retry, moved]  # then the oldest check first
        assert fresh not in found and failed not in found
        assert retry in due(now) and failed in due(now + timedelta(hours=2))  # 20 hours after it failed

    def test_a_silenced_address_is_never_due(self):
        now = timezone.now()
        project = make_project(website="https://quiet.example/")
        LinkCheck.objects.create(
            project=project, url=project.website, checked_at=now - 30 * DAY, ok=False,
            silenced_url=project.website,
        )  # fmt: skip
        assert project not in due(now)
        Project.objects.filter(pk=project.pk).update(website="https://quiet.example/moved")
        assert project in due(now)


class TestPoliteness:
    def test_requests_to_one_host_start_at_least_the_interval_apart(self, site, settings):
        settings.LINK_CHECK_HOST_INTERVAL_MS = 400
        for n in range(3):
            make_project(website=site.url(f"/ok/{n}"))
        check_due_links()
        times = sorted(seen.at for seen in site.seen)
        assert len(times) == 3
        assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 0.4

    def test_the_host_includes_the_port_and_ignores_case(self, sites, settings):
        settings.LINK_CHECK_HOST_INTERVAL_MS = 400
        site = sites()
        make_project(website=site.url("/ok/a", host="LOCALHOST"))
        make_project(website=site.url("/ok/b", host="localhost"))
        check_due_links()
        first, second = sorted(seen.at for seen in site.seen)
        assert second - first >= 0.4

    def test_different_hosts_are_checked_at_the_same_time(self, sites, settings):
        settings.LINK_CHECK_HOST_INTERVAL_MS = 1000
        settings.LINK_CHECK_CONCURRENCY = 2
        settings.LINK_CHECK_TIMEOUT = 3
        one, two = sites(), sites()
        for site in (one, two):
            make_project(website=site.url("/pause/1"))
            make_project(website=site.url("/pause/2"))
        check_due_links()
        assert [len(site.seen) for site in (one, two)] == [2, 2]
        first_one, first_two = (min(seen.at for seen in site.seen) for site in (one, two))
        # Each answer takes PAUSE seconds: one after the other, the second would start at
        # least that long after the first; at the same time, they start together.
        assert abs(first_one - first_two) < PAUSE / 2


class TestPublicPagesStayAsTheyAre:
    def test_a_run_moves_no_cache_version_and_no_listing(
        self, sites, settings, django_capture_on_commit_callbacks
    ):
        settings.PAGE_CACHE_SECONDS = 300  # the page cache on: a save would move its version
        site = sites()
        fine = make_project(website=site.url("/ok"))
        gone = make_project(website=site.url("/missing"))
        before = pagecache.version()
        stamps = dict(Project.objects.values_list("pk", "updated_at"))
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            for day in (0, 4, 8):
                check_due_links(now=start + day * DAY)
        assert open_alerts(gone).count() == 1 and check_of(fine).ok  # the run did its work
        assert pagecache.version() == before
        assert dict(Project.objects.values_list("pk", "updated_at")) == stamps

    def test_the_guard_itself_sees_a_save(self, settings, django_capture_on_commit_callbacks):
        """The test above could not fail if a save left the version alone: here one moves it."""
        settings.PAGE_CACHE_SECONDS = 300
        project = make_project(website="https://example.com/")
        before = pagecache.version()
        with django_capture_on_commit_callbacks(execute=True):
            project.save()
        assert pagecache.version() != before


def test_one_run_at_a_time_whatever_the_number_of_workers(settings):
    from review import linkjobs

    settings.LINK_CHECKS = True
    assert linkjobs.take_lease()  # a run is going on
    assert linkjobs.check_links.call() == {"skipped": "another run is checking"}
    linkjobs.give_back_lease()
    assert "checked" in linkjobs.check_links.call()  # the lease is free again afterwards
    assert linkjobs.take_lease()
    linkjobs.give_back_lease()
