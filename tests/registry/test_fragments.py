"""The parts of public pages kept in the cache (registry/fragments.py: the filter forms, the
project cards, the map's panels, the statistics' charts): the page is the same served from
them as written afresh, they are used, and they are never stale, with the page cache off."""

from unittest import mock

import pytest
from django.core.cache import InvalidCacheBackendError, caches

from registry.filters import ProjectFilterSet
from registry.models import Project, Track
from registry.stats import Chart
from tests.base import make_project

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-hans"}
PAGES = [
    "/",
    "/tracks/coding/?page=1",
    "/projects/?stage=growth&seeking=smell&hq_country=SG&q=客服",
    "/map/?stage=growth",
    "/map/",
    "/stats/?stage=growth&track=coding",
]


def fragment_cache():
    """The cache {% cache %} uses: "template_fragments", else the default one (as in tests)."""
    try:
        return caches["template_fragments"]
    except InvalidCacheBackendError:
        return caches["default"]


@pytest.fixture(autouse=True)
def empty_fragment_cache():
    fragment_cache().clear()
    yield
    fragment_cache().clear()


def unwritten(what):
    def fail(*args):
        raise AssertionError(f"{what} written again")

    return fail


@pytest.fixture
def projects(db):
    for n in range(6):
        make_project(
            name=f"客服 {n}", slug=f"kefu-{n}", track_slug=("coding", "video")[n % 2], stage="growth",
            hq_country="SG", logo=f"logos/{n:032x}.webp" if n % 2 else "", status=("active", "closed")[n % 3 == 0],
        )  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_a_page_is_the_same_from_its_cached_parts_as_written_afresh(client, projects, url):
    for headers in (EN, ZH):
        written = client.get(url, headers=headers).text
        with (
            mock.patch.object(ProjectFilterSet, "panel", unwritten("the filter form")),
            mock.patch("registry.views.tiles", unwritten("the tiles")),
            mock.patch.object(Chart, "height", property(unwritten("a chart"))),
            mock.patch.object(Project, "get_absolute_url", unwritten("a project card")),
        ):
            cached = client.get(url, headers=headers).text
        assert cached == written, url


def test_the_map_shows_a_renamed_project_at_once(client, projects):
    assert ">客服 1</strong>" in client.get("/map/", headers=EN).text
    project = Project.objects.get(slug="kefu-1")
    project.name = "客服 renamed"
    project.save()
    text = client.get("/map/", headers=EN).text
    assert ">客服 renamed</strong>" in text and ">客服 1</strong>" not in text


@pytest.mark.parametrize("url", ["/", "/projects/", "/tracks/video/", "/projects/kefu-3/"])
def test_the_cards_show_a_changed_project_at_once(client, projects, url):
    assert "客服 1" in client.get(url, headers=EN).text
    Project.objects.filter(slug="kefu-1").update(tagline="A new tagline", status="pivoted")
    text = client.get(url, headers=EN).text
    assert "A new tagline" in text and "Pivoted" in text


def test_the_charts_count_a_new_project_at_once(client, projects):
    coding = 'Coding &amp; developer tools</a></th><td class="text-end">{}</td>'
    assert coding.format(3) in client.get("/stats/?stage=growth", headers=EN).text
    make_project(track_slug="coding", stage="growth")
    text = client.get("/stats/?stage=growth", headers=EN).text
    assert coding.format(4) in text and coding.format(3) not in text


@pytest.mark.parametrize("url", ["/projects/", "/stats/"])
def test_the_filter_form_shows_a_renamed_track_at_once(client, projects, url):
    assert "Coding &amp; developer tools" in client.get(url, headers=EN).text
    Track.objects.filter(slug="coding").update(name_en="Coding, renamed")
    text = client.get(url, headers=EN).text
    assert "Coding, renamed" in text and "Coding &amp; developer tools" not in text


def test_each_set_of_filters_has_its_own_form(client, projects):
    ticked = 'name="stage" value="growth" id="id_stage_3" checked'
    assert ticked in client.get("/projects/?stage=growth").text
    assert ticked not in client.get("/projects/?stage=idea").text
    assert ticked not in client.get("/projects/").text


def test_a_group_of_the_panel_is_written_once_for_every_form_with_its_values(client, projects):
    """A form with other values reuses the groups whose values are the same (here the country)."""
    from django.core.cache.utils import make_template_fragment_key
    from django.utils import translation

    from registry.fragments import filter_group_key

    client.get("/projects/?stage=growth", headers=EN)
    with translation.override("en"):
        form = ProjectFilterSet(None, queryset=Project.objects.none()).form
        countries = [(str(code), str(label)) for code, label in form.fields["hq_country"].choices]
        key = make_template_fragment_key(
            "filter-group", [filter_group_key("hq_country", set(), False, countries)]
        )
    assert fragment_cache().get(key) is not None
    fragment_cache().set(key, "<p>the country group as kept</p>")
    assert "<p>the country group as kept</p>" in client.get("/projects/?stage=idea", headers=EN).text
    assert "<p>the country group as kept</p>" not in client.get("/projects/?hq_country=SG", headers=EN).text
    assert "<p>the country group as kept</p>" not in client.get("/projects/?stage=idea", headers=ZH).text
