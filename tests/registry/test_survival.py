"""Survival by cohort (registry.survival): the projects by the year they were first listed and
what became of them, on /stats/, /api/stats/survival/ and /data/survival.csv: the same figures
in all three, public projects only, the list's filters applied, one query more on /stats/."""

import csv
import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.models import Project, Track
from registry.survival import CSV_COLUMNS, STATUSES, survival
from tests.base import make_project

pytestmark = pytest.mark.django_db

STATS_URL = reverse("stats")
API_URL = reverse("registry:api-survival")
CSV_URL = reverse("registry:data-survival-csv")
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-hans"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def listed(on, *, status="active", since=None, track_slug="agents", **fields):
    """A public project first listed on `on` (a date: noon in Shanghai, or an aware datetime),
    in `status` since `since`."""
    at = on if isinstance(on, datetime) else datetime(on.year, on.month, on.day, 12, tzinfo=SHANGHAI)
    return make_project(
        published_at=at,
        first_published_at=at,
        track_slug=track_slug,
        status=status,
        status_since=since,
        status_evidence="A test said so" if status != "active" else "",
        **fields,
    )


def closed(on, months, *, day_before=False, **fields):
    """Listed on `on`, closed `months` whole months later (or a day short of them)."""
    year, month = divmod(on.month - 1 + months, 12)
    since = date(on.year + year, month + 1, on.day)
    return listed(on, status="closed", since=since - timedelta(days=1) if day_before else since, **fields)


def figures():
    return survival(Project.objects.published(), list(Track.objects.all()))


def by_year(found):
    return {cohort.year: cohort for cohort in found.cohorts}


@pytest.fixture
def cohorts(db):
    """2022: 3 active, 1 pivoted, 2 closed after 4 and 9 months (median 6.5), in agents and
    coding; 2023: 2 active, 1 acquired, 3 closed after 2, 5 and 11 months (median 5);
    2024: 2 active, no closure."""
    for _ in range(3):
        listed(date(2022, 3, 10))
    listed(date(2022, 5, 1), status="pivoted", since=date(2022, 9, 1), track_slug="coding")
    closed(date(2022, 1, 20), 4, track_slug="coding")
    closed(date(2022, 6, 5), 9)
    listed(date(2023, 2, 1), track_slug="video")
    listed(date(2023, 2, 2), track_slug="video")
    listed(date(2023, 4, 1), status="acquired", since=date(2024, 1, 2), acquired_by="Example Group")
    closed(date(2023, 1, 15), 2)
    closed(date(2023, 7, 31), 5, track_slug="video")
    closed(date(2023, 2, 28), 11)
    listed(date(2024, 8, 8))
    listed(date(2024, 9, 9), track_slug="coding")


class TestCohorts:
    def test_it_counts_each_years_projects_by_status(self, cohorts):
        found = by_year(figures())
        assert list(found) == [2022, 2023, 2024]
        assert found[2022].tally.counts == {"active": 3, "pivoted": 1, "acquired": 0, "closed": 2}
        assert found[2023].tally.counts == {"active": 2, "pivoted": 0, "acquired": 1, "closed": 3}
        assert found[2024].tally.counts == {"active": 2, "pivoted": 0, "acquired": 0, "closed": 0}
        assert [cohort.tally.total for cohort in found.values()] == [6, 6, 2]

    def test_it_gives_shares_and_percentages_that_add_up_to_a_hundred(self, cohorts):
        found = by_year(figures())
        assert found[2022].tally.shares == {
            "active": 0.5,
            "pivoted": 0.1667,
            "acquired": 0.0,
            "closed": 0.3333,
        }
        assert found[2022].tally.percents == {"active": 50, "pivoted": 17, "acquired": 0, "closed": 33}
        assert found[2024].tally.percents == {"active": 100, "pivoted": 0, "acquired": 0, "closed": 0}
        for cohort in found.values():
            assert sum(cohort.tally.percents.values()) == 100

    def test_it_takes_the_median_months_to_closure(self, cohorts):
        found = by_year(figures())
        assert found[2022].tally.median_months == 6.5  # an even number: the mean of the middle two
        assert found[2023].tally.median_months == 5
        assert found[2024].tally.median_months is None  # no closure

    def test_an_even_number_of_closures_with_equal_middles_gives_a_whole_number(self):
        for months in (1, 3, 3, 20):
            closed(date(2023, 3, 1), months)
        assert figures().cohorts[0].tally.median_months == 3

    def test_it_counts_whole_months_as_an_age_is_counted(self):
        closed(date(2023, 1, 15), 2)  # 15 Jan to 15 Mar: 2
        closed(date(2023, 1, 15), 2, day_before=True)  # 15 Jan to 14 Mar: 1
        assert figures().cohorts[0].tally.months == {2: 1, 1: 1}

    def test_it_counts_the_year_and_the_months_in_the_sites_time_zone(self):
        # 20:00 UTC on 31 December 2022 is already 1 January 2023 in Shanghai
        listed(datetime(2022, 12, 31, 20, tzinfo=UTC), status="closed", since=date(2023, 3, 1))
        # 20:00 UTC on 14 January is 15 January in Shanghai: to 14 March is 1 month, not 2
        listed(datetime(2023, 1, 14, 20, tzinfo=UTC), status="closed", since=date(2023, 3, 14))
        (cohort,) = figures().cohorts
        assert cohort.year == 2023 and cohort.tally.months == {2: 1, 1: 1}

    def test_a_listing_without_a_first_publication_counts_from_its_publication(self):
        project = listed(date(2021, 6, 1))
        Project.objects.filter(pk=project.pk).update(first_published_at=None)
        assert [cohort.year for cohort in figures().cohorts] == [2021]

    def test_a_closure_before_the_listing_counts_as_none_and_one_without_a_date_not_at_all(self):
        listed(date(2023, 5, 1), status="closed", since=date(2022, 1, 1))  # listed when already gone
        listed(date(2023, 5, 1), status="closed", since=None)
        (cohort,) = figures().cohorts
        assert cohort.tally.counts["closed"] == 2
        assert cohort.tally.months == {0: 1} and cohort.tally.median_months == 0

    def test_it_gives_the_same_figures_per_track(self, cohorts):
        found = by_year(figures())
        agents, coding, video = (Track.objects.get(slug=slug) for slug in ("agents", "coding", "video"))
        assert found[2022].of_track(coding).counts == {"active": 0, "pivoted": 1, "acquired": 0, "closed": 1}
        assert found[2022].of_track(coding).median_months == 4
        assert found[2022].of_track(agents).counts == {"active": 3, "pivoted": 0, "acquired": 0, "closed": 1}
        assert found[2023].of_track(video).percents["active"] == 67
        assert found[2023].of_track(video).median_months == 5
        assert found[2024].of_track(video).total == 0 and found[2024].of_track(video).percents == {}

    def test_the_tracks_table_has_the_tracks_with_projects_in_display_order(self, cohorts):
        rows = figures().track_rows()
        assert [row.track.slug for row in rows] == [
            track.slug for track in Track.objects.all() if track.slug in ("agents", "coding", "video")
        ]
        assert [year for year, _tally in rows[0].cells] == [2022, 2023, 2024]

    def test_it_never_counts_unpublished_or_scheduled_projects(self, cohorts):
        make_project(published=False, status="closed", status_since=date(2023, 1, 1))
        soon = timezone.now() + timedelta(days=1)
        make_project(published_at=soon, first_published_at=soon)
        taken_down = listed(date(2019, 1, 1))
        Project.objects.filter(pk=taken_down.pk).update(published=False)
        found = by_year(figures())
        assert list(found) == [2022, 2023, 2024] and sum(c.tally.total for c in found.values()) == 14

    def test_the_bars_fill_the_width_in_status_order(self, cohorts):
        for cohort in figures().cohorts:
            segments = cohort.segments
            assert [segment.status for segment in segments] == list(STATUSES)
            drawn = [segment for segment in segments if segment.n]
            assert abs(sum(segment.width for segment in drawn) - 640) <= 1
            assert all(a.x + a.width <= b.x + 0.05 for a, b in itertools.pairwise(drawn))


class TestStatsPage:
    @pytest.mark.parametrize("headers", [EN, ZH])
    def test_it_shows_the_survival_section_in_both_languages(self, client, cohorts, headers):
        response = client.get(STATS_URL, headers=headers)
        assert response.status_code == 200
        text = response.text
        section = text.split('id="survival"')[1].split('id="decisions"')[0]
        assert 'aria-labelledby="survival-svg-title"' in section and section.count("<rect") == 7
        assert "<caption" in section and '<th scope="row" class="fw-normal">2023</th>' in section
        if headers is EN:
            assert "Survival by cohort" in section
            assert all(label in section for label in ("Active", "Pivoted", "Acquired", "Closed"))
            assert "Coding &amp; developer tools" in section and "All tracks" in section
        else:
            assert '<html lang="zh-hans">' in text
            assert all(label in section for label in ("运营中", "已转型", "已被收购", "已关闭"))
            assert "AI编程与开发工具" in section and "全部赛道" in section

    def test_it_shows_the_figures_as_text(self, client, cohorts):
        section = client.get(STATS_URL, headers=EN).text.split('id="survival"')[1]
        row_2022 = section.split('<th scope="row" class="fw-normal">2022</th>')[1].split("</tr>")[0]
        assert ">6<" in row_2022 and "3 <span" in row_2022 and "(50%)" in row_2022 and ">6.5<" in row_2022
        row_2024 = section.split('<th scope="row" class="fw-normal">2024</th>')[1].split("</tr>")[0]
        assert row_2024.endswith('<td class="text-end">—</td>')  # no closure
        assert ">50%</text>" in section  # the percentages on the bars
        assert 'title="2023: 3 projects — 2 active, 0 pivoted, 0 acquired, 1 closed">67%' in section

    def test_it_renders_an_empty_state_without_projects(self, client):
        response = client.get(STATS_URL, headers=EN)
        assert response.status_code == 200
        section = response.text.split('id="survival"')[1].split('id="decisions"')[0]
        assert "Nothing to count here for these projects." in section and "<svg" not in section
        assert response.context["survival"].is_empty

    def test_the_list_filters_apply(self, client, cohorts):
        response = client.get(STATS_URL, {"track": "coding"})
        found = by_year(response.context["survival"])
        assert list(found) == [2022, 2024]
        assert found[2022].tally.counts == {"active": 0, "pivoted": 1, "acquired": 0, "closed": 1}
        response = client.get(STATS_URL, {"status": "closed"})
        assert {y: c.tally.counts["closed"] for y, c in by_year(response.context["survival"]).items()} == {
            2022: 2,
            2023: 3,
        }

    def test_it_links_to_the_figures_with_the_current_filters(self, client, cohorts):
        text = client.get(STATS_URL, {"track": "coding", "page": "2"}).text
        assert f'href="{API_URL}?track=coding"' in text and f'href="{CSV_URL}?track=coding"' in text

    def test_a_malformed_query_string_does_not_break_it(self, client, cohorts):
        bad = {"founded_min": "abc", "track": "nope", "status": ["closed", "gone"], "q": "%_"}
        for url in (STATS_URL, API_URL, CSV_URL):
            assert client.get(url, bad).status_code == 200, url
            assert client.get(f"{url}?status=%ZZ&track&&=x&sort[]=1").status_code == 200, url

    def test_it_adds_at_most_one_query(
        self, client, cohorts, django_assert_num_queries, django_assert_max_num_queries
    ):
        """The tracks, the counts, the decisions: 3 before; the survival figures: one more at
        most (none where PostgreSQL keeps the counts: TestKeptCounts)."""
        without = mock.patch(
            "aimap.views.survival", lambda projects, tracks, params=None: survival(projects.none(), tracks)
        )
        with without, django_assert_num_queries(3):
            client.get(STATS_URL, {"stage": "idea"})
        for params in ({}, {"stage": "idea"}, {"track": ["coding", "agents"], "q": "Test"}):
            with django_assert_max_num_queries(4):
                client.get(STATS_URL, params)
        for n in range(20):
            listed(date(2020 + n % 6, 1 + n % 12, 1 + n), status=STATUSES[n % 4], since=date(2026, 1, 1))
        with django_assert_max_num_queries(4):
            client.get(STATS_URL)


class TestDownloads:
    def test_the_api_gives_the_pages_figures(self, client, cohorts):
        page = client.get(STATS_URL).context["survival"]
        response = client.get(API_URL)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        data = response.json()
        assert data["time_zone"] == "Asia/Shanghai" and data["ignored"] == []
        assert data["cohorts"] == page.record()
        cohort = data["cohorts"][0]
        assert list(cohort) == ["year", "total", "counts", "shares", "median_months_to_closure", "tracks"]
        assert cohort["year"] == 2022 and cohort["total"] == 6 and cohort["median_months_to_closure"] == 6.5
        assert cohort["counts"] == {"active": 3, "pivoted": 1, "acquired": 0, "closed": 2}
        assert cohort["shares"]["active"] == 0.5
        assert len(cohort["tracks"]) == 15  # every track, zeros included
        coding = next(row for row in cohort["tracks"] if row["track"] == "coding")
        assert coding == {
            "track": "coding",
            "total": 2,
            "counts": {"active": 0, "pivoted": 1, "acquired": 0, "closed": 1},
            "shares": {"active": 0.0, "pivoted": 0.5, "acquired": 0.0, "closed": 0.5},
            "median_months_to_closure": 4,
        }
        video = next(row for row in cohort["tracks"] if row["track"] == "video")
        assert video["total"] == 0 and video["shares"] is None and video["median_months_to_closure"] is None
        assert data["cohorts"][2]["median_months_to_closure"] is None

    def test_the_api_writes_text_as_it_is_and_says_what_it_ignored(self, client, cohorts):
        response = client.get(API_URL, {"stage": "nonsense"}, headers=ZH)
        text = response.content.decode()
        assert "\\u" not in text and "“" in text  # ensure_ascii off
        assert len(json.loads(text)["ignored"]) == 1

    def test_the_csv_gives_the_pages_figures(self, client, cohorts):
        page = by_year(client.get(STATS_URL).context["survival"])
        response = client.get(CSV_URL)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="aimap-survival.csv"'
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff")  # so that spreadsheets read it as UTF-8
        rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert len(rows) == 3 * (1 + 15)  # per cohort: all tracks, then every track
        every = {int(row["cohort"]): row for row in rows if row["track"] == ""}
        for year, cohort in page.items():
            row = every[year]
            assert int(row["total"]) == cohort.tally.total
            assert {status: int(row[status]) for status in STATUSES} == cohort.tally.counts
            median = cohort.tally.median_months
            assert row["median_months_to_closure"] == ("" if median is None else str(median))
        assert every[2022]["median_months_to_closure"] == "6.5"
        coding_2022 = next(row for row in rows if row["cohort"] == "2022" and row["track"] == "coding")
        assert coding_2022 == {
            "cohort": "2022",
            "track": "coding",
            "total": "2",
            "active": "0",
            "pivoted": "1",
            "acquired": "0",
            "closed": "1",
            "median_months_to_closure": "4",
        }

    def test_the_filters_apply_to_the_downloads(self, client, cohorts):
        assert [c["year"] for c in client.get(API_URL, {"track": "coding"}).json()["cohorts"]] == [2022, 2024]
        text = client.get(CSV_URL, {"track": "coding"}).content.decode()
        assert {line.split(",")[0] for line in text.splitlines()[1:]} == {"2022", "2024"}

    def test_without_projects_they_are_empty(self, client):
        assert client.get(API_URL).json()["cohorts"] == []
        assert client.get(CSV_URL).content.decode() == "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"

    def test_they_read_in_two_queries(self, client, cohorts, django_assert_num_queries):
        with django_assert_num_queries(2):  # the tracks, the figures
            client.get(API_URL, {"track": "coding", "stage": "idea"})
        with django_assert_num_queries(1):  # the tracks; the figures kept since (the same filters)
            client.get(CSV_URL, {"stage": "idea", "track": "coding"})

    def test_they_refuse_post(self, client):
        assert client.post(API_URL).status_code == 405
        assert client.post(CSV_URL).status_code == 405

    @override_settings(PAGE_CACHE_SECONDS=60)
    def test_a_closure_shows_on_the_next_request_with_the_page_cache_on(
        self, client, cohorts, django_capture_on_commit_callbacks
    ):
        for url in (STATS_URL, API_URL, CSV_URL):
            client.get(url)
            assert client.get(url)["X-Page-Cache"] == "hit", url
        project = Project.objects.filter(track__slug="video", status="active").first()
        with django_capture_on_commit_callbacks(execute=True):
            project.status, project.status_since = "closed", date(2023, 12, 1)
            project.save()
        data = client.get(API_URL).json()
        assert data["cohorts"][1]["counts"]["closed"] == 4
        assert client.get(STATS_URL)["X-Page-Cache"] == "miss"
        assert ",4," in client.get(CSV_URL).content.decode().splitlines()[1 + 16]


def records(found):
    return [(cohort.year, cohort.tally.record()) for cohort in found.cohorts]


class TestKeptAMinute:
    """The figures are a GROUP BY over every public project: kept in the cache, under a
    version every write to public data moves (registry.survival)."""

    def test_the_same_filters_read_the_kept_figures_with_no_query(
        self, client, cohorts, django_assert_num_queries
    ):
        first = records(client.get(STATS_URL).context["survival"])
        with django_assert_num_queries(3):  # the tracks, the counts, the decisions
            again = records(client.get(STATS_URL).context["survival"])
        assert again == first and again == records(figures())
        assert client.get(API_URL).json()["cohorts"][0]["counts"] == first[0][1]["counts"]

    def test_a_write_to_public_data_forgets_them(self, client, cohorts):
        before = records(client.get(STATS_URL).context["survival"])
        project = Project.objects.published().filter(status="active").first()
        project.status, project.status_since, project.status_evidence = "closed", date(2026, 1, 15), "news"
        project.save()
        after = records(client.get(STATS_URL).context["survival"])
        assert after != before and after == records(figures())

    def test_other_filters_are_kept_apart(self, client, cohorts):
        everything = records(client.get(STATS_URL).context["survival"])
        ideas = records(client.get(STATS_URL, {"stage": "idea"}).context["survival"])
        assert sum(r["total"] for _y, r in ideas) <= sum(r["total"] for _y, r in everything)
        assert ideas == records(
            survival(Project.objects.published().filter(stage="idea"), list(Track.objects.all()))
        )
