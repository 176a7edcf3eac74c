"""Every public page reads in a fixed number of queries, however many projects there are
and however many fit on a page (no N+1 over projects, tracks, logos or owners).

Each case measures the same page with 5 and with 40 published projects, and (where the
page is paginated) with the small and the large page size; the counts must be equal and
under the page's ceiling. Run with `-s` to see the numbers.
"""

import pytest

from registry.models import Track
from tests.base import make_project, make_user

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 40
TRACKS = ["customer-service", "agents", "coding"]
HTMX = {"HX-Request": "true"}
FILTERS = {
    "track": TRACKS,
    "stage": ["launched", "growth"],
    "business_models": ["subscription", "usage"],
    "q": "客服",
    "sort": "name",
}


def build(start, stop):
    """Projects start…stop-1, as varied as the pages make them look: three tracks,
    secondary tracks, logos, owners, every filtered field set, all matching FILTERS."""
    owner = make_user()
    for n in range(start, stop):
        make_project(
            name=f"智能客服 {n:02d}",
            name_en=f"Support {n:02d}",
            tagline=f"客服机器人 {n}",
            track_slug=TRACKS[n % 3],
            secondary=[TRACKS[(n + 1) % 3]] if n % 2 else (),
            logo=f"logos/{n:032x}.webp" if n % 3 == 0 else "",
            owner=owner if n % 4 == 0 else None,
            stage="launched" if n % 2 else "growth",
            business_models=["subscription"] if n % 2 else ["usage", "license"],
            modalities=["text", "audio"],
            hq_city="杭州",
            verified=True,
        )


def detail_slug():
    return "support-00"  # the first project: a logo, an owner, similar projects


# name: (url, GET parameters, headers, page-size parameter or None, ceiling). The ceilings are
# the counts measured when this was written: a new query on a page is a decision, not an accident.
PAGES = {
    "home": ("/", {}, {}, None, 4),
    "list": ("/projects/", {}, {}, "per_page", 3),
    "list, filters + search": ("/projects/", FILTERS, {}, "per_page", 3),
    "list via htmx": ("/projects/", FILTERS, HTMX, "per_page", 3),
    "map": ("/map/", {}, {}, None, 3),
    "map, filters + search": ("/map/", FILTERS, {}, None, 3),
    "map, one filter": ("/map/", {"stage": ["launched", "growth"]}, {}, None, 3),
    "track page": ("/tracks/customer-service/", {}, {}, "per_page", 3),
    # its lineage (what it became, formerly, acquired by) costs a query only when something
    # links (Project.lineage; tests/lifecycle/test_end_states.py)
    "project page": (lambda: f"/projects/{detail_slug()}/", {}, {}, None, 4),
    "API list": ("/api/projects/", {}, {}, "page_size", 3),
    "API list, filters + search": ("/api/projects/", FILTERS, {}, "page_size", 4),
    "API detail": (lambda: f"/api/projects/{detail_slug()}/", {}, {}, None, 2),
    "API tracks": ("/api/tracks/", {}, {}, None, 1),
    # Streamed downloads: 2-3, and the client's slot (registry.exportlimit): an insert in a
    # savepoint (three statements inside the test's transaction, one outside) and a delete.
    "CSV download": ("/data/projects.csv", {}, {}, None, 2 + 4),
    "CSV download, filters + search": ("/data/projects.csv", FILTERS, {}, None, 3 + 4),
    "JSON download": ("/data/projects.json", {}, {}, None, 2 + 4),
    "JSON download, filters + search": ("/data/projects.json", FILTERS, {}, None, 3 + 4),
}


@pytest.fixture(autouse=True)
def streamed_downloads(settings):
    """The downloads as written in the request (filtered ones, and the whole map before its
    file exists); serving the file: tests/registry/test_download_files.py."""
    settings.DOWNLOAD_FILES = False


def measure(client, assert_max, url, params, headers, ceiling):
    """(number of queries, body) of one GET."""
    with assert_max(ceiling) as queries:
        response = client.get(url, params, headers=headers)
        assert response.status_code == 200
        # A download's queries run while it streams.
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(queries), body.decode()


@pytest.mark.parametrize("name", PAGES)
def test_queries_do_not_grow_with_projects_or_page_size(client, django_assert_max_num_queries, name):
    url, params, headers, size_parameter, ceiling = PAGES[name]

    bodies = []

    def count(size):
        full = {**params, **({size_parameter: size} if size_parameter else {})}
        number, body = measure(
            client, django_assert_max_num_queries, url() if callable(url) else url, full, headers, ceiling
        )
        bodies.append(body)
        return number

    build(0, SMALL)
    counts = {f"{SMALL} projects": count(24)}
    build(SMALL, LARGE)
    counts[f"{LARGE} projects"] = count(24)
    if size_parameter:
        counts[f"{LARGE} projects, {size_parameter}=96"] = count(96)
    if not callable(url) and "tracks" not in url.split("/")[1:3]:
        # The last measurement really did show the rows (filters and search matched them all).
        assert "智能客服 39" in bodies[-1]
    print(f"\n[queries] {name:32} " + ", ".join(f"{label}: {n}" for label, n in counts.items()))
    assert len(set(counts.values())) == 1, counts


def test_the_map_does_not_query_once_per_track(client, django_assert_max_num_queries):
    slugs = list(Track.objects.values_list("slug", flat=True))
    counts = {}
    for used in (3, len(slugs)):
        for slug in slugs[:used]:
            make_project(track_slug=slug)
        counts[f"{used} tracks in use"], _ = measure(
            client, django_assert_max_num_queries, "/map/", {}, {}, 3
        )
    print(f"\n[queries] {'map, by tracks in use':32} " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    assert len(set(counts.values())) == 1, counts


# /stats/ shows no project names: its cases check that the projects were counted (their city).
# 4: the tracks, the counts, the decisions, and the survival by cohort (registry.survival: one
# GROUP BY of the filtered projects, which the kept counts do not hold; then kept a minute,
# until public data changes).
STATS_PAGES = {
    "stats": ({}, 4),
    "stats, one filter": ({"stage": ["launched", "growth"]}, 4),
    "stats, filters + search": (FILTERS, 4),
}


@pytest.mark.parametrize("name", STATS_PAGES)
def test_the_statistics_read_in_a_fixed_number_of_queries(client, django_assert_max_num_queries, name):
    params, ceiling = STATS_PAGES[name]
    counts = {}
    build(0, SMALL)
    counts[f"{SMALL} projects"], _ = measure(
        client, django_assert_max_num_queries, "/stats/", params, {}, ceiling
    )
    build(SMALL, LARGE)
    counts[f"{LARGE} projects"], body = measure(
        client, django_assert_max_num_queries, "/stats/", params, {}, ceiling
    )
    assert "杭州" in body and "<svg" in body
    print(f"\n[queries] {name:32} " + ", ".join(f"{label}: {n}" for label, n in counts.items()))
    assert len(set(counts.values())) == 1, counts
