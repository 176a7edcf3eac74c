"""`reviewed=1`: only the projects the association reviewed, wherever the list's filters apply
(the list, a track, the map, the statistics, the API, the open data, the feed), as a switch
always in view in the filter panel, linked from the home page's "reviewed" figure.

It is the first filter added by "How to add a filter" (docs/decisions/0013): declared in
ProjectFilterSet, its SQL (a kept-count scope) written by makemigrations, its label translated.
"""

import csv
import io
import json
import re

import pytest

from registry import counts
from registry.filters import FlagFilter, ProjectFilterSet
from tests.base import make_project, text_of

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


@pytest.fixture
def projects():
    return {
        "reviewed": make_project(
            name="Reviewed One", slug="reviewed-one", track_slug="coding", verified=True
        ),
        "listed": make_project(name="Listed One", slug="listed-one", track_slug="coding", verified=False),
        "other": make_project(name="Listed Two", slug="listed-two", track_slug="video", verified=False),
    }


def slugs_on(text):
    return set(re.findall(r'href="/projects/([a-z0-9-]+)/"', text))


def test_it_is_declared_once_as_a_flag_on_the_verified_column():
    reviewed = ProjectFilterSet.vocabulary()["reviewed"]
    assert isinstance(reviewed, FlagFilter) and reviewed.column == "verified"
    assert "reviewed" in counts.one_of_scopes()
    assert "'reviewed:' || CASE WHEN verified THEN '1' ELSE '0' END" in counts.keys_function()


def test_the_list_shows_only_reviewed_projects(client, projects):
    response = client.get("/projects/?reviewed=1", headers=EN)
    assert response.status_code == 200
    assert response.context["paginator"].count == 1
    assert slugs_on(response.text) >= {"reviewed-one"}
    assert not slugs_on(response.text) & {"listed-one", "listed-two"}


def test_a_track_page_the_map_and_the_statistics_follow_it(client, projects):
    track_page = client.get("/tracks/coding/?reviewed=1", headers=EN)
    assert track_page.context["paginator"].count == 1
    assert "listed-one" not in slugs_on(track_page.text)

    landscape = client.get("/map/?reviewed=1", headers=EN)
    assert landscape.context["total"] == 1
    assert "reviewed-one" in slugs_on(landscape.text) and "listed-two" not in slugs_on(landscape.text)

    stats = client.get("/stats/?reviewed=1", headers=EN)
    assert stats.context["numbers"]["projects"] == 1
    assert stats.context["numbers"]["reviewed"] == 1
    everything = client.get("/stats/", headers=EN)
    assert everything.context["numbers"]["projects"] == 3


def test_the_api_the_open_data_and_the_feed_follow_it(client, projects):
    api = json.loads(client.get("/api/projects/?reviewed=1").content)
    assert [item["slug"] for item in api["results"]] == ["reviewed-one"]

    rows = json.loads(text_of(client.get("/data/projects.json?reviewed=1")))
    assert [row["slug"] for row in rows] == ["reviewed-one"]
    assert len(json.loads(text_of(client.get("/data/projects.json")))) == 3

    text = text_of(client.get("/data/projects.csv?reviewed=1")).removeprefix("\ufeff")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(row["slug"], row["provenance"]) for row in table] == [("reviewed-one", "reviewed")]

    feed = client.get("/feed/?reviewed=1").content.decode()
    assert "Reviewed One" in feed and "Listed One" not in feed
    assert "Listed One" in client.get("/feed/").content.decode()


@pytest.mark.parametrize("value", ["banana", "0", "true", "2"])
def test_a_value_not_understood_is_ignored_with_a_message(client, projects, value):
    response = client.get(f"/projects/?reviewed={value}", headers=EN)
    assert response.status_code == 200
    assert response.context["paginator"].count == 3
    assert f"“Reviewed”: {value} was not understood and is ignored." in response.text
    assert client.get(f"/api/projects/?reviewed={value}").status_code == 200
    assert client.get(f"/feed/?reviewed={value}").status_code == 200


def test_the_panel_offers_it_as_a_switch_in_view(client, projects):
    text = client.get("/projects/", headers=EN).text
    switch = re.search(r'<div class="form-check form-switch filter-toggle">(.*?)</div>', text, re.S).group(1)
    assert 'type="checkbox" role="switch" name="reviewed" value="1"' in switch
    assert "checked" not in switch
    assert "Only projects reviewed by the association" in switch
    ticked = client.get("/projects/?reviewed=1", headers=EN).text
    assert re.search(r'name="reviewed" value="1" id="id_reviewed_0" checked', ticked)
    chinese = client.get("/projects/", headers={"accept-language": "zh-hans"}).text
    assert "仅显示经协会审核的项目" in chinese


def test_the_chip_removes_it(client, projects):
    response = client.get("/projects/?reviewed=1&stage=growth", headers=EN)
    chips = response.context["chips"]
    assert ("Reviewed", "Only projects reviewed by the association", "stage=growth") in [
        (str(label), str(value), link) for label, value, link in chips
    ]


def test_the_home_page_reviewed_figure_links_to_it(client, projects):
    text = client.get("/", headers=EN).text
    assert re.search(
        r'<a class="link-secondary" href="/projects/\?reviewed=1">reviewed by the association</a>', text
    )
