"""/stats/, /about/review/ and the home page's numbers: published projects only, the list's
filters apply, charts as inline SVG with the numbers as tables, a constant number of queries."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.models import Track
from registry.stats import MONTHS, month_starts, public_numbers
from tests.base import make_project, make_submission, make_user

pytestmark = pytest.mark.django_db

STATS_URL = reverse("stats")
ABOUT_URL = reverse("registry:about-review")
HOME_URL = reverse("registry:home")
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-hans"}


def counts(response, slug):
    """{row code (or label, for rows without one): value} of one chart."""
    chart = next(chart for chart in response.context["charts"] if chart.slug == slug)
    return {row.code or row.label: row.value for row in chart.rows}


def nonzero(mapping):
    return {key: value for key, value in mapping.items() if value}


class TestStatsNumbers:
    def test_it_counts_projects_per_track(self, client):
        make_project(track_slug="agents")
        make_project(track_slug="agents")
        make_project(track_slug="coding")
        response = client.get(STATS_URL)
        assert response.status_code == 200
        per_track = counts(response, "track")
        assert len(per_track) == 15  # every track, in display order, zeros included
        assert nonzero(per_track) == {"agents": 2, "coding": 1}
        assert response.context["numbers"]["projects"] == 3

    def test_it_counts_the_top_ten_countries_and_the_rest_as_other(self, client):
        codes = ["CN", "US", "SG", "JP", "KR", "GB", "DE", "FR", "CA", "IN", "AU", "BR"]
        for code in codes:
            make_project(hq_country=code)
        for _ in range(3):
            make_project(hq_country="CN")
        make_project(hq_country="US")
        response = client.get(STATS_URL, headers=EN)
        chart = next(chart for chart in response.context["charts"] if chart.slug == "country")
        assert [row.code for row in chart.rows[:2]] == ["CN", "US"]
        assert chart.rows[0].value == 4 and chart.rows[1].value == 2
        assert len(chart.rows) == 11
        assert chart.rows[-1].code == "" and chart.rows[-1].value == 2  # the two left over
        assert chart.rows[-1].label == "Other countries and regions"
        assert chart.total == 16
        assert response.context["numbers"]["countries"] == 12

    def test_it_names_countries_in_the_current_language(self, client):
        make_project(hq_country="JP")
        assert "Japan" in client.get(STATS_URL, headers=EN).text
        assert "日本" in client.get(STATS_URL, headers=ZH).text

    def test_it_counts_the_top_ten_cities_and_leaves_out_projects_without_one(self, client):
        for n in range(12):
            make_project(hq_city=f"City {n:02d}")
        make_project(hq_city="Hangzhou")
        make_project(hq_city="Hangzhou")
        make_project(hq_city="")
        per_city = counts(client.get(STATS_URL), "city")
        assert len(per_city) == 10
        assert next(iter(per_city.items())) == ("Hangzhou", 2)
        assert "" not in per_city

    def test_it_counts_stages_in_choice_order_with_the_unspecified_last(self, client):
        make_project(stage="idea")
        make_project(stage="growth")
        make_project(stage="growth")
        make_project(stage="")
        response = client.get(STATS_URL, headers=EN)
        per_stage = counts(response, "stage")
        assert list(per_stage) == ["idea", "prototype", "launched", "growth", "mature", "Not given"]
        assert per_stage == {
            "idea": 1,
            "prototype": 0,
            "launched": 0,
            "growth": 2,
            "mature": 0,
            "Not given": 1,
        }

    def test_it_counts_funding_stages(self, client):
        make_project(funding_stage="seed")
        make_project(funding_stage="series_a")
        make_project(funding_stage="seed")
        assert nonzero(counts(client.get(STATS_URL), "funding_stage")) == {"seed": 2, "series_a": 1}

    def test_it_counts_every_business_model_of_a_project(self, client):
        make_project(business_models=["subscription", "usage"])
        make_project(business_models=["usage"])
        make_project(business_models=[])
        per_model = counts(client.get(STATS_URL), "business_models")
        assert len(per_model) == 8
        assert nonzero(per_model) == {"subscription": 1, "usage": 2}

    def test_it_counts_foundation_model_types(self, client):
        make_project(foundation_models=["open_source", "proprietary_api"], business_models=["open_source"])
        make_project(foundation_models=["self_developed"])
        per_type = counts(client.get(STATS_URL), "foundation_models")
        assert per_type == {"open_source": 1, "proprietary_api": 1, "self_developed": 1}

    def test_it_counts_first_publications_per_month_for_the_last_24_months(self, client):
        now = timezone.now()
        starts = month_starts(now)
        make_project(first_published_at=now - timedelta(minutes=5))
        make_project(
            first_published_at=starts[-4] + timedelta(days=2), published_at=now - timedelta(minutes=5)
        )
        make_project(first_published_at=starts[0] - timedelta(days=2))  # before the window
        make_project(first_published_at=None)  # counts from its publication time: this month
        chart = next(chart for chart in client.get(STATS_URL).context["charts"] if chart.slug == "month")
        values = [row.value for row in chart.rows]
        assert len(values) == MONTHS
        assert values[-1] == 2 and values[-4] == 1
        assert chart.total == 3

    def test_it_counts_by_local_month(self, client):
        """Shanghai time: 20:00 UTC on the last day of a month is already the next month."""
        starts = month_starts(timezone.now())
        early = starts[-2] + timedelta(hours=1)  # last month here, still the month before in UTC
        assert early.astimezone(UTC).month != starts[-2].month
        make_project(first_published_at=early)
        chart = next(chart for chart in client.get(STATS_URL).context["charts"] if chart.slug == "month")
        assert chart.rows[-2].value == 1 and chart.rows[-3].value == 0

    def test_month_starts_cross_the_new_year(self):
        starts = month_starts(datetime(2026, 2, 10, 12, tzinfo=UTC))
        assert len(starts) == MONTHS
        assert (starts[0].year, starts[0].month) == (2024, 3)
        assert (starts[-1].year, starts[-1].month) == (2026, 2)
        assert [s.month for s in starts[-3:]] == [12, 1, 2]

    def test_it_counts_projects_reviewed_by_the_association(self, client):
        make_project(verified=True)
        make_project(verified=False)
        assert client.get(STATS_URL).context["numbers"]["reviewed"] == 1


class TestStatsCountsOnlyPublicProjects:
    def test_it_never_counts_unpublished_or_scheduled_projects(self, client):
        make_project(track_slug="coding", hq_country="US", stage="idea", business_models=["usage"])
        make_project(
            published=False,
            track_slug="agents",
            hq_country="JP",
            hq_city="Hiddenville",
            stage="growth",
            business_models=["subscription"],
        )
        make_project(
            published_at=timezone.now() + timedelta(days=1),
            first_published_at=timezone.now() + timedelta(days=1),
            track_slug="agents",
            hq_country="JP",
            hq_city="Futureville",
            funding_stage="seed",
            foundation_models=["open_source"],
        )
        response = client.get(STATS_URL, headers=EN)
        assert response.context["numbers"] == {"projects": 1, "countries": 1, "reviewed": 0}
        assert nonzero(counts(response, "track")) == {"coding": 1}
        assert nonzero(counts(response, "country")) == {"US": 1}
        assert nonzero(counts(response, "stage")) == {"idea": 1}
        assert nonzero(counts(response, "funding_stage")) == {"Not given": 1}
        assert nonzero(counts(response, "business_models")) == {"usage": 1}
        assert nonzero(counts(response, "foundation_models")) == {}
        assert sum(counts(response, "month").values()) == 1
        assert "Hiddenville" not in response.text and "Futureville" not in response.text
        assert "Japan</text>" not in response.text and "Japan</a>" not in response.text

    def test_it_shows_an_empty_state_when_nothing_is_published(self, client):
        make_project(published=False)
        response = client.get(STATS_URL, headers=EN)
        assert response.status_code == 200
        assert "No projects are published yet." in response.text
        assert "<svg" not in response.text
        assert "No decisions have been made yet." in response.text

    def test_it_shows_an_empty_state_when_no_project_matches_the_filters(self, client):
        make_project(track_slug="agents")
        response = client.get(STATS_URL, {"track": "coding"}, headers=EN)
        assert "No project matches these filters." in response.text
        assert "<svg" not in response.text


class TestStatsFilters:
    def test_the_list_filters_apply(self, client):
        make_project(track_slug="coding", hq_country="US", business_models=["usage"])
        make_project(track_slug="coding", hq_country="CN", business_models=["subscription"])
        make_project(track_slug="agents", hq_country="CN", business_models=["usage"])
        response = client.get(STATS_URL, {"track": "coding"})
        assert response.context["numbers"]["projects"] == 2
        assert nonzero(counts(response, "track")) == {"coding": 2}
        assert nonzero(counts(response, "country")) == {"US": 1, "CN": 1}

        response = client.get(STATS_URL, {"hq_country": "CN", "business_models": "usage"})
        assert nonzero(counts(response, "track")) == {"agents": 1}

    def test_several_values_of_one_filter_and_one_many_of_value(self, client):
        make_project(
            track_slug="coding", stage="idea", hq_city="Hangzhou", hq_country="CN", business_models=["usage"]
        )
        make_project(track_slug="agents", stage="growth", hq_city="Hangzhou", hq_country="CN",
                     business_models=["usage", "license"])  # fmt: skip
        make_project(track_slug="agents", stage="mature", hq_city="Austin", hq_country="US", verified=True)
        response = client.get(STATS_URL, {"stage": ["idea", "growth"]})
        assert response.context["numbers"] == {"projects": 2, "countries": 1, "reviewed": 0}
        assert nonzero(counts(response, "track")) == {"coding": 1, "agents": 1}
        assert counts(response, "city") == {"Hangzhou": 2}
        response = client.get(STATS_URL, {"business_models": "license"})
        assert nonzero(counts(response, "business_models")) == {"usage": 1, "license": 1}
        assert nonzero(counts(response, "stage")) == {"growth": 1}
        response = client.get(STATS_URL, {"business_models": ["license", "usage"]})  # any of them
        assert response.context["numbers"]["projects"] == 2

    def test_search_and_sort_apply_without_breaking_the_counts(self, client):
        make_project(name="智能客服机器人", track_slug="customer-service")
        make_project(name="Other thing", track_slug="agents")
        response = client.get(STATS_URL, {"q": "客服", "sort": "name"})
        assert nonzero(counts(response, "track")) == {"customer-service": 1}
        assert sum(counts(response, "month").values()) == 1

    def test_it_ignores_bad_filter_values_and_says_so(self, client):
        make_project()
        response = client.get(
            STATS_URL, {"stage": "nonsense", "founded_min": "abc", "track": "nope", "page": "x"}, headers=EN
        )
        assert response.status_code == 200
        assert response.context["numbers"]["projects"] == 1
        assert "was not understood and is ignored" in response.text

    def test_table_rows_link_to_the_list_with_the_current_filters(self, client):
        make_project(track_slug="coding", hq_country="US", stage="idea")
        response = client.get(STATS_URL, {"hq_country": "US", "track": "agents"})
        chart = next(chart for chart in response.context["charts"] if chart.slug == "track")
        coding = next(row for row in chart.rows if row.code == "coding")
        assert coding.url.startswith(reverse("registry:project-list") + "?")
        assert "hq_country=US" in coding.url
        assert "track=coding" in coding.url and "track=agents" not in coding.url

    def test_it_shows_the_active_filters_as_removable_chips(self, client):
        make_project(track_slug="coding")
        response = client.get(STATS_URL, {"track": "coding"}, headers=EN)
        assert 'class="chip"' in response.text


class TestStatsPage:
    def test_it_draws_every_chart_as_svg_with_a_table(self, client, founder):
        make_submission(founder, state="rejected")
        make_project(
            hq_city="Shenzhen",
            stage="launched",
            funding_stage="seed",
            business_models=["usage"],
            foundation_models=["open_source"],
            first_published_at=timezone.now(),
        )
        response = client.get(STATS_URL, headers=EN)
        text = response.text
        charts = response.context["charts"]
        assert [chart.slug for chart in charts] == [
            "track",
            "country",
            "city",
            "stage",
            "funding_stage",
            "business_models",
            "foundation_models",
            "month",
        ]
        assert text.count("<svg") == len(charts) + 1  # and the survival by cohort
        assert text.count('role="img"') == len(charts) + 1
        assert text.count("<caption") == len(charts) + 2  # and the survival and decisions tables
        for title in ("Projects per track", "Projects per stage", "Published per month", "Top cities"):
            assert f'-svg-title">{title}</title>' in text
            assert f'<caption class="caption-top">{title}</caption>' in text
        assert "<script" not in text.split('id="main"')[1].split("</main>")[0]

    def test_it_uses_no_inline_style_attribute(self, client):
        """The CSP forbids inline styles: geometry and colours are SVG presentation attributes."""
        make_project(track_slug="coding")
        text = client.get(STATS_URL).text
        assert not re.search(r"\sstyle\s*=", text)
        assert 'fill="#' in text  # the track bars take their track's colour

    def test_the_svg_geometry_is_not_localised(self, client):
        for _ in range(3):
            make_project(track_slug="coding")
        make_project(track_slug="agents")
        for headers in (EN, ZH):
            text = client.get(STATS_URL, headers=headers).text
            widths = re.findall(r'<rect[^>]* width="([^"]+)"', text)
            assert widths and all(re.fullmatch(r"\d+(\.\d+)?", w) for w in widths)

    def test_the_longest_bar_is_full_width_and_others_proportional(self, client):
        for _ in range(4):
            make_project(track_slug="coding")
        make_project(track_slug="agents")
        chart = next(chart for chart in client.get(STATS_URL).context["charts"] if chart.slug == "track")
        widths = {row.code: row.width for row in chart.rows}
        assert widths["coding"] == 560 and widths["agents"] == 140 and widths["video"] == 0

    @pytest.mark.parametrize("headers", [EN, ZH])
    def test_it_renders_in_both_languages(self, client, headers):
        make_project(track_slug="coding", stage="idea")
        response = client.get(STATS_URL, headers=headers)
        assert response.status_code == 200
        language = headers["accept-language"]
        assert f'<html lang="{language}">' in response.text
        if language == "en":
            assert "Coding &amp; developer tools" in response.text and ">Idea<" in response.text
        else:
            assert "AI编程与开发工具" in response.text and ">创意<" in response.text

    def test_it_reads_in_a_constant_number_of_queries(self, client, django_assert_max_num_queries):
        founder = make_user()
        for n in range(3):
            make_project(hq_country="CN", hq_city=f"C{n}", business_models=["usage"])
        # the tracks, the counts, the decisions, the survival by cohort
        with django_assert_max_num_queries(4):
            client.get(STATS_URL, {"track": "agents", "stage": "idea"})
        for n in range(40):
            make_project(
                track_slug=["agents", "coding", "video"][n % 3],
                hq_country=["CN", "US", "SG", "JP"][n % 4],
                hq_city=f"City {n}",
                stage="growth",
                business_models=["usage", "subscription"],
                foundation_models=["open_source"],
            )
            make_submission(founder, state=["approved", "rejected", "changes_requested"][n % 3])
        with django_assert_max_num_queries(4) as captured:
            client.get(STATS_URL, {"track": "agents", "stage": "idea"})
        with django_assert_max_num_queries(len(captured.captured_queries)):
            client.get(STATS_URL, {"track": "agents", "stage": "idea"})
        with django_assert_max_num_queries(4):
            client.get(STATS_URL)
        with django_assert_max_num_queries(4):
            client.get(STATS_URL, {"stage": ["idea", "growth"]})

    def test_it_refuses_post(self, client):
        assert client.post(STATS_URL).status_code == 405


class TestDecisionsPerTrack:
    def test_it_counts_submissions_per_track_by_decision(self, client, founder):
        for state in ("approved", "published", "published", "rejected", "changes_requested"):
            make_submission(founder, state=state, track_slug="coding")
        make_submission(founder, state="rejected", track_slug="video")
        for state in ("draft", "submitted", "in_review", "withdrawn"):
            make_submission(founder, state=state, track_slug="coding")
        make_submission(founder, state="rejected", track_slug=None)  # no track: not in the table
        response = client.get(STATS_URL, headers=EN)
        rows = {row.track.slug: row for row in response.context["decisions"]}
        assert len(rows) == 15
        coding = rows["coding"]
        assert (coding.approved, coding.changes_requested, coding.rejected, coding.total) == (3, 1, 1, 5)
        assert (rows["video"].rejected, rows["video"].total) == (1, 1)
        assert rows["agents"].total == 0
        total = response.context["decision_total"]
        assert (total.approved, total.changes_requested, total.rejected, total.total) == (3, 1, 2, 6)
        assert 'id="decisions"' in response.text and "Submissions per track by decision" in response.text

    def test_it_shows_no_submission_content(self, client, founder):
        make_submission(founder, state="rejected", name="SECRET-9f3 rejected", tagline="SECRET-9f3")
        make_submission(founder, state="changes_requested", name="SECRET-9f3 pending")
        response = client.get(STATS_URL)
        assert "SECRET-9f3" not in response.text
        assert response.context["decision_total"].total == 2

    def test_the_filters_do_not_apply_to_decisions(self, client, founder):
        make_submission(founder, state="rejected", track_slug="video")
        response = client.get(STATS_URL, {"track": "coding"})
        assert response.context["decision_total"].total == 1


class TestAboutReview:
    @pytest.mark.parametrize("headers", [EN, ZH])
    def test_it_renders_in_both_languages(self, client, headers):
        response = client.get(ABOUT_URL, headers=headers)
        assert response.status_code == 200
        assert f'<html lang="{headers["accept-language"]}">' in response.text

    def test_it_says_who_reviews_the_criteria_and_the_conflict_rules(self, client):
        text = client.get(ABOUT_URL, headers=EN).text
        assert "independent, non-commercial industry association" in text
        for criterion in (
            "Authenticity and verifiability",
            "AI-nativeness and innovation",
            "Completeness and accuracy",
        ):
            assert criterion in text
        assert "from 1 (weak) to 5 (strong)" in text
        assert "nobody approves their own submission" in text
        for kind in ("Employment", "Investment", "Advisory", "Personal", "Competitor"):
            assert f"<dt>{kind}</dt>" in text

    def test_it_links_to_the_decision_statistics(self, client):
        assert f'href="{STATS_URL}#decisions"' in client.get(ABOUT_URL).text

    @override_settings(REVIEW_APPROVALS_REQUIRED=2)
    def test_it_states_how_many_approvals_are_required(self, client):
        assert (
            "at least 2 reviewers without a conflict have recommended"
            in client.get(ABOUT_URL, headers=EN).text
        )

    def test_it_states_a_single_approval_in_the_singular(self, client, settings):
        settings.REVIEW_APPROVALS_REQUIRED = 1
        assert (
            "at least 1 reviewer without a conflict has recommended" in client.get(ABOUT_URL, headers=EN).text
        )

    def test_it_refuses_post(self, client):
        assert client.post(ABOUT_URL).status_code == 405


class TestHome:
    def test_it_shows_the_headline_numbers_of_published_projects_only(self, client):
        make_project(hq_country="CN", verified=True)
        make_project(hq_country="US")
        make_project(hq_country="JP", published=False, verified=True)
        make_project(hq_country="SG", published_at=timezone.now() + timedelta(hours=1), verified=True)
        context = client.get(HOME_URL).context
        assert context["project_count"] == 2
        assert context["country_count"] == 2
        assert context["reviewed_count"] == 1
        assert context["track_count"] == 15

    def test_it_lists_the_tracks_with_their_counts(self, client):
        make_project(track_slug="coding")
        make_project(track_slug="coding")
        make_project(track_slug="video", published=False)
        response = client.get(HOME_URL, headers=EN)
        tracks = {track.slug: count for track, count in response.context["tracks"]}
        assert len(tracks) == 15 and tracks["coding"] == 2 and tracks["video"] == 0
        assert 'href="/tracks/coding/"' in response.text

    def test_it_shows_the_newest_eight_and_up_to_four_featured(self, client):
        for n in range(10):
            make_project(name=f"Newest {n}", published_at=timezone.now() - timedelta(minutes=20 - n))
        for n in range(5):
            make_project(name=f"Star {n}", featured=True, published_at=timezone.now() - timedelta(days=1 + n))
        make_project(name="Hidden star", featured=True, published=False)
        context = client.get(HOME_URL).context
        assert [p.name for p in context["newest"]] == [f"Newest {n}" for n in range(9, 1, -1)]
        assert [p.name for p in context["featured"]] == [f"Star {n}" for n in range(4)]

    def test_it_leads_into_the_list_the_map_and_the_statistics(self, client):
        text = client.get(HOME_URL).text
        for name in ("registry:project-list", "registry:map", "stats", "registry:about-review"):
            assert f'href="{reverse(name)}"' in text

    def test_it_reads_in_a_constant_number_of_queries(self, client, django_assert_max_num_queries):
        make_project(featured=True)
        with django_assert_max_num_queries(8) as captured:
            client.get(HOME_URL)
        few = len(captured.captured_queries)
        for n in range(20):
            make_project(
                featured=n % 2 == 0, track_slug=["agents", "coding"][n % 2], hq_country=["CN", "US"][n % 2]
            )
        with django_assert_max_num_queries(few):
            client.get(HOME_URL)

    @pytest.mark.parametrize("headers", [EN, ZH])
    def test_it_renders_in_both_languages(self, client, headers):
        make_project(track_slug="coding")
        assert client.get(HOME_URL, headers=headers).status_code == 200


def test_the_public_numbers_for_the_home_page():
    make_project(hq_country="CN", verified=True, track_slug="coding")
    make_project(hq_country="US", track_slug="coding")
    make_project(hq_country="", track_slug="video")
    make_project(hq_country="JP", published=False, verified=True)
    make_project(hq_country="SG", published_at=timezone.now() + timedelta(hours=1), verified=True)
    numbers, per_track = public_numbers()
    assert numbers == {"projects": 3, "countries": 2, "reviewed": 1}  # an unknown country is no country
    assert per_track == {Track.objects.get(slug="coding").pk: 2, Track.objects.get(slug="video").pk: 1}


class TestNavigation:
    def test_every_page_links_to_the_statistics_and_the_review_page(self, client):
        text = client.get(reverse("registry:project-list")).text
        assert f'href="{STATS_URL}"' in text and f'href="{ABOUT_URL}"' in text

    def test_the_current_page_is_marked_active(self, client):
        text = client.get(STATS_URL).text
        assert f'class="nav-link active" href="{STATS_URL}"' in text
