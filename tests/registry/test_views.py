"""The public pages: they show published projects only, and never answer with a 500."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from registry.filters import ProjectFilterSet
from registry.models import Project, PublicCountState, Track
from tests.base import make_project

pytestmark = pytest.mark.django_db

LIST_URL = reverse("registry:project-list")


def detail_url(project):
    return reverse("registry:project-detail", kwargs={"slug": project.slug})


class TestProjectList:
    def test_it_lists_published_projects(self, client):
        make_project(name="云雀智能")
        response = client.get(LIST_URL)
        assert response.status_code == 200
        assert "云雀智能" in response.text

    def test_it_hides_drafts_and_scheduled_projects(self, client):
        make_project(name="Draft Lark", published=False)
        make_project(name="Future Lark", published_at=timezone.now() + timedelta(days=1))
        response = client.get(LIST_URL)
        assert "Draft Lark" not in response.text
        assert "Future Lark" not in response.text

    def test_it_shows_an_empty_state(self, client):
        response = client.get(LIST_URL, headers={"accept-language": "en"})
        assert "No projects are published yet." in response.text

    def test_it_shows_the_result_count(self, client):
        for _ in range(3):
            make_project()
        response = client.get(LIST_URL, headers={"accept-language": "en"})
        assert "3 projects" in response.text

    @override_settings(PROJECTS_PER_PAGE=2)
    def test_it_paginates(self, client):
        names = [make_project(name=f"Paged {n}").name for n in range(5)]
        first = client.get(LIST_URL)
        third = client.get(LIST_URL, {"page": 3})
        assert len(first.context["page"].object_list) == 2
        assert [p.name for p in third.context["page"].object_list] == [names[0]]

    @override_settings(PROJECTS_PER_PAGE=2)
    @pytest.mark.parametrize("page", ["999", "-1", "abc", "1e9", "", "2.5"])
    def test_it_answers_a_bad_page_number_without_an_error(self, client, page):
        for _ in range(3):
            make_project()
        response = client.get(LIST_URL, {"page": page})
        assert response.status_code == 200
        assert response.context["page"].number in (1, 2)

    def test_it_reads_the_page_in_a_fixed_number_of_queries(self, client, django_assert_max_num_queries):
        for n in range(12):
            make_project(secondary=["coding"] if n % 2 else ())
        with django_assert_max_num_queries(3):  # the tracks, the count, the page
            client.get(LIST_URL)

    def test_it_refuses_post(self, client):
        assert client.post(LIST_URL).status_code == 405

    @override_settings(PROJECTS_PER_PAGE=24)
    @pytest.mark.parametrize("query", ["", "sort=name", "sort=founded", "stage=growth", "q=Paged", "q=页"])
    def test_its_pages_together_are_the_whole_list_in_order(self, client, query):
        """A page's ids are read first and then their rows (registry.views.paginate): every
        page, the last one too, holds the next projects of the one ordering, ties included."""
        same_time = timezone.now() - timedelta(hours=1)
        for n in range(53):
            make_project(
                name=f"Paged {n % 7} 页" if n % 5 else f"Lone {n}",
                tagline="Paged" if n % 2 else "页",
                founded_year=2000 + n % 4,
                stage="growth" if n % 3 else "idea",
                published_at=same_time if n % 4 == 0 else same_time - timedelta(minutes=n),
            )
        whole = [
            p.pk
            for p in client.get(LIST_URL, {**QueryDict(query).dict(), "per_page": 96})
            .context["page"]
            .object_list
        ]
        pages, number, last = [], 1, 1
        while number <= last:
            response = client.get(LIST_URL, {**QueryDict(query).dict(), "page": number})
            pages += [p.pk for p in response.context["page"].object_list]
            number, last = number + 1, response.context["paginator"].num_pages
        assert pages == whole and len(whole) == response.context["paginator"].count
        matches = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published()).qs
        assert set(whole) == set(matches.values_list("pk", flat=True))
        assert len(whole) == (
            53
            if query in ("", "sort=name", "sort=founded")
            else {"stage": 35, "q=Pag": 47, "q=页": 48}[query[:5]]
        )

    @pytest.mark.parametrize(
        "query",
        ["", "sort=name", "track=coding", "track=coding&track=agents", "stage=growth&stage=idea", "business_models=usage",
         "hq_country=CN", "track=coding&stage=growth", "q=Count", "track=nope"],
    )  # fmt: skip
    def test_its_count_is_the_number_of_matching_projects_after_every_change(self, client, query):
        """Kept counts (registry.counts, PostgreSQL) or counted afresh: the number shown is the
        number of public projects the filters match, as projects are published, unpublished,
        moved and scheduled."""
        projects = [
            make_project(
                name=f"Count {n}",
                track_slug=["coding", "agents", "video"][n % 3],
                stage=["growth", "idea", "launched"][n % 3],
                business_models=[["usage"], ["license", "usage"], []][n % 3],
                hq_country=["CN", "US"][n % 2],
            )
            for n in range(9)
        ]
        make_project(name="Count draft", track_slug="coding", published=False)
        make_project(name="Count later", track_slug="coding", published_at=timezone.now() + timedelta(days=1))

        def check():
            expected = ProjectFilterSet(QueryDict(query), queryset=Project.objects.published()).qs.count()
            assert client.get(LIST_URL, QueryDict(query)).context["paginator"].count == expected
            return expected

        check()
        projects[0].published = False  # unpublished
        projects[0].save()
        projects[1].track = Track.objects.get(slug="coding")  # moved
        projects[1].save()
        Project.objects.filter(name="Count draft").update(published=True, published_at=timezone.now())  # bulk
        check()
        PublicCountState.objects.all().delete()  # counts not kept (as after a TRUNCATE): counted afresh
        check()


class TestProjectDetail:
    def test_it_shows_every_public_field(self, client):
        project = make_project(
            name="灵犀客服",
            name_en="Lingxi Support",
            tagline="Customer service agents for shops",
            description="First paragraph.\n\nSecond paragraph.",
            track_slug="customer-service",
            secondary=["agents"],
            organization="灵犀示例科技",
            website="https://lingxi.example/",
            founded_year=2022,
            hq_city="杭州",
            hq_country="CN",
            stage="growth",
            funding_stage="series_a",
            team_size="11_50",
            business_models=["subscription", "usage"],
            target_market="global",
            customer_types=["smb"],
            foundation_models=["open_source"],
            models_used="Qwen2.5, DeepSeek-V3",
            modalities=["text", "audio"],
            seeking=["investment"],
            status="pivoted",
            verified=True,
            verified_at=timezone.now(),
        )
        text = client.get(detail_url(project), headers={"accept-language": "en"}).text
        for expected in [
            "灵犀客服", "Lingxi Support", "Customer service agents for shops", "<p>First paragraph.</p>",
            "<p>Second paragraph.</p>", "Customer service", "AI agents", "灵犀示例科技",
            "https://lingxi.example/", "2022", "杭州", "China", "Growth", "Series A", "11–50",
            "Subscription, Usage-based", "Global", "Small and medium businesses", "Open-source models",
            "Qwen2.5, DeepSeek-V3", "Text, Audio", "Investment", "Pivoted", "Reviewed by the association on",
        ]:  # fmt: skip
            assert expected in text, expected

    def test_it_shows_the_page_in_chinese(self, client):
        project = make_project(track_slug="healthcare", stage="launched")
        text = client.get(detail_url(project), headers={"accept-language": "zh-hans"}).text
        assert "AI+医疗" in text and "已上线" in text and '<html lang="zh-hans">' in text

    def test_it_shows_the_contact_email_only_when_the_founder_chooses(self, client):
        hidden = make_project(contact_email="hidden@example.com", show_contact_email=False)
        shown = make_project(contact_email="shown@example.com", show_contact_email=True)
        assert "hidden@example.com" not in client.get(detail_url(hidden)).text
        assert "shown@example.com" in client.get(detail_url(shown)).text

    def test_it_escapes_html_in_project_content(self, client):
        project = make_project(name="<script>alert(1)</script>", description="<b>bold</b>")
        text = client.get(detail_url(project)).text
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<b>bold</b>" not in text

    def test_it_marks_a_closed_project(self, client):
        project = make_project(status="closed")
        assert "Closed" in client.get(detail_url(project), headers={"accept-language": "en"}).text

    def test_it_is_404_for_an_unknown_slug(self, client):
        assert client.get("/projects/no-such-project/").status_code == 404

    def test_it_is_404_for_an_unpublished_project(self, client):
        assert client.get(detail_url(make_project(published=False))).status_code == 404

    def test_it_is_404_for_a_scheduled_project(self, client):
        project = make_project(published_at=timezone.now() + timedelta(hours=2))
        assert client.get(detail_url(project)).status_code == 404

    def test_it_refuses_post(self, client):
        assert client.post(detail_url(make_project())).status_code == 405


class TestHome:
    def test_it_counts_only_published_projects(self, client):
        make_project(featured=True, name="Featured Lark")
        make_project(published=False, name="Hidden Lark")
        response = client.get("/")
        assert response.context["project_count"] == 1
        assert "Featured Lark" in response.text and "Hidden Lark" not in response.text

    def test_its_numbers_are_the_public_projects_counted_afresh(self, client):
        """Projects, countries, reviewed and per track, from one GROUP BY: the same as counting
        the public projects directly; drafts and scheduled ones count nowhere."""
        from django.db.models import Count, Q

        for n, (country, track_slug) in enumerate(
            [("CN", "agents"), ("CN", "coding"), ("US", "agents"), ("SG", "video")]
        ):
            make_project(hq_country=country, track_slug=track_slug, verified=n % 2 == 0)
        make_project(hq_country="JP", track_slug="healthcare", verified=True, published=False)
        make_project(
            hq_country="FR", track_slug="healthcare", published_at=timezone.now() + timedelta(days=1)
        )
        context = client.get("/").context
        public = Project.objects.published()
        expected = public.aggregate(
            projects=Count("pk"),
            countries=Count("hq_country", distinct=True),
            reviewed=Count("pk", filter=Q(verified=True)),
        )
        assert (context["project_count"], context["country_count"], context["reviewed_count"]) == (4, 3, 2)
        assert expected == {"projects": 4, "countries": 3, "reviewed": 2}
        per_track = {track.slug: count for track, count in context["tracks"]}
        assert per_track["agents"] == 2 and per_track["coding"] == 1 and per_track["video"] == 1
        assert per_track["healthcare"] == 0 and sum(per_track.values()) == 4 and len(per_track) == 15


class TestLanguageSwitch:
    def test_it_switches_the_interface_language_and_remembers_it(self, client):
        make_project()
        switch = reverse("switch-language", args=["en"])
        assert f'href="{switch}?next=/projects/%3Fpage%3D1"' in client.get(LIST_URL + "?page=1").text
        response = client.get(switch, {"next": LIST_URL}, follow=True)
        assert '<html lang="en">' in response.text and ">Projects</h1>" in response.text
        again = client.get(LIST_URL)
        assert '<html lang="en">' in again.text

        client.get(reverse("switch-language", args=["zh-hans"]), {"next": LIST_URL})
        assert ">项目</h1>" in client.get(LIST_URL).text

    @pytest.mark.parametrize(
        "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""]
    )
    def test_it_never_sends_visitors_to_another_site(self, client, target):
        response = client.get(reverse("switch-language", args=["en"]), {"next": target})
        assert response.status_code == 302 and response.url == "/"

    def test_an_unknown_language_is_404_and_sets_nothing(self, client):
        response = client.get(reverse("switch-language", args=["xx"]), {"next": LIST_URL})
        assert response.status_code == 404 and "django_language" not in response.cookies

    def test_public_pages_carry_no_csrf_token_and_no_nonce(self, client):
        make_project()
        for url in ("/", LIST_URL, "/map/", "/stats/"):
            response = client.get(url)
            assert "csrfmiddlewaretoken" not in response.text and "nonce=" not in response.text, url
            assert "csrftoken" not in response.cookies, url

    def test_it_defaults_to_chinese(self, client):
        assert '<html lang="zh-hans">' in client.get(LIST_URL).text

    def test_it_follows_the_browser_language(self, client):
        assert '<html lang="en">' in client.get(LIST_URL, headers={"accept-language": "en-GB,en"}).text


class TestTrackStyles:
    def test_the_stylesheet_holds_every_tracks_colour_and_its_url_changes_with_them(self, client):
        page = client.get(LIST_URL).text
        href = page.split('href="/tracks.css?v=', 1)[1].split('"', 1)[0]
        css = client.get("/tracks.css", {"v": href})
        assert css["Content-Type"].startswith("text/css") and "immutable" in css["Cache-Control"]
        assert ".track-agents{--track-color:" in css.text and css.text.count("--track-color") == 15

        Track.objects.filter(slug="agents").update(color="#123456")
        assert f"/tracks.css?v={href}" not in client.get(LIST_URL).text
        stale = client.get("/tracks.css", {"v": href})
        assert "#123456" in stale.text and "immutable" not in stale["Cache-Control"]
