"""/map/: every track a panel of logo tiles, the first MAP_TILES_PER_TRACK by name, with the
track's count and a link to the rest; the list's filters apply; public projects only."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from registry.models import Track
from registry.views import MAP_TILES_PER_TRACK
from tests.base import make_project

pytestmark = pytest.mark.django_db

MAP_URL = "/map/"
EN = {"accept-language": "en"}


def panel(text, slug):
    """The markup of one track's panel."""
    return text.split(f'<section class="landscape-panel track-{slug}"')[1].split("</section>")[0]


def tile_links(text, slug):
    return re.findall(r'<a class="tile[^"]*" href="/projects/([^/]+)/"', panel(text, slug))


def test_every_track_has_a_panel_in_display_order_with_its_count(client):
    make_project(track_slug="coding")
    make_project(track_slug="coding")
    make_project(track_slug="video")
    response = client.get(MAP_URL, headers=EN)
    text = response.text
    slugs = re.findall(r'<section class="landscape-panel track-([a-z-]+)"', text)
    assert slugs == list(Track.objects.values_list("slug", flat=True))
    assert response.context["total"] == 3
    assert '<span class="text-body-secondary fw-normal">2</span>' in panel(text, "coding")
    assert "None here with these filters." in panel(text, "agents")


def test_tiles_are_the_first_of_each_track_by_name_with_a_link_to_the_rest(client):
    for n in range(MAP_TILES_PER_TRACK + 2):
        make_project(track_slug="coding", name=f"Coder {n:03d}", slug=f"coder-{n:03d}")
    make_project(track_slug="video", name="Zoetrope", slug="zoetrope")
    make_project(track_slug="video", name="Animator", slug="animator")
    text = client.get(MAP_URL, headers=EN).text
    assert tile_links(text, "coding") == [f"coder-{n:03d}" for n in range(MAP_TILES_PER_TRACK)]
    assert 'href="/tracks/coding/">All 62 in this track</a>' in panel(text, "coding")
    assert tile_links(text, "video") == ["animator", "zoetrope"]
    assert "in this track" not in panel(text, "video")


def test_only_public_projects_are_shown_and_counted(client):
    make_project(track_slug="coding", name="Shown", slug="shown")
    make_project(track_slug="coding", name="Draft", slug="draft", published=False)
    make_project(
        track_slug="coding", name="Later", slug="later", published_at=timezone.now() + timedelta(days=1)
    )
    response = client.get(MAP_URL)
    assert tile_links(response.text, "coding") == ["shown"]
    assert response.context["total"] == 1


def test_the_lists_filters_and_search_apply(client):
    make_project(track_slug="coding", name="智能客服 A", slug="a", stage="growth")
    make_project(track_slug="coding", name="Other B", slug="b", stage="growth")
    make_project(track_slug="video", name="智能客服 C", slug="c", stage="idea")
    response = client.get(MAP_URL, {"stage": "growth"}, headers=EN)
    assert (
        tile_links(response.text, "coding") == ["b", "a"] and tile_links(response.text, "video") == []
    )  # by name
    assert response.context["total"] == 2
    assert 'class="chip"' in response.text
    response = client.get(MAP_URL, {"q": "客服"})
    assert tile_links(response.text, "coding") == ["a"] and tile_links(response.text, "video") == ["c"]
    response = client.get(MAP_URL, {"track": ["video", "coding"], "stage": "idea"})
    assert response.context["total"] == 1 and tile_links(response.text, "video") == ["c"]


def test_a_tile_is_a_logo_or_an_initial_with_the_name_and_tagline_as_its_tooltip(client):
    with_logo = make_project(track_slug="coding", name="Logo & Co", slug="logo-co", tagline="<b>bold</b> claims",
                             logo="logos/abc.png", verified=True)  # fmt: skip
    make_project(
        track_slug="coding", name="étoile", slug="etoile", tagline="Stars", status="closed",
        status_since=date(2025, 3, 4), status_evidence="https://news.example/etoile",
    )  # fmt: skip
    text = panel(client.get(MAP_URL, headers=EN).text, "coding")
    assert (
        f'<a class="tile is-reviewed" href="/projects/logo-co/" aria-describedby="tip-{with_logo.pk}">'
        f'<img class="project-logo" src="{with_logo.logo_thumbnail_url}" alt="Logo &amp; Co" loading="lazy" '
        f'width="48" height="48"><span class="tile-mark" aria-hidden="true">✓</span>'
        f'<span class="tile-tip" role="tooltip" id="tip-{with_logo.pk}">'
        "<strong>Logo &amp; Co</strong> &lt;b&gt;bold&lt;/b&gt; claims <em>Reviewed by the association</em></span></a>"
    ) in text
    # faded (gone), no mark (not reviewed), its end state with its month in the tooltip
    assert '<a class="tile is-gone" href="/projects/etoile/"' in text
    assert '<span class="tile-status">Closed 2025-03</span> Stars' in text
    assert "<em>Listed, not yet reviewed</em>" in text and text.count('class="tile-mark"') == 1
    assert '<span class="logo-placeholder" aria-hidden="true">É</span>' in text
    assert "<b>bold</b>" not in text


def test_it_refuses_post(client):
    assert client.post(MAP_URL).status_code == 405


def test_filtered_tiles_are_the_same_whether_ids_or_rows_are_read_first():
    """landscape.first_tiles(filtered=True) finds the ids first (PostgreSQL: an index-only scan
    of the tile index), then their rows: the same tiles as the one-step query, in the same order."""
    from django.http import QueryDict

    from registry.filters import ProjectFilterSet
    from registry.landscape import first_tiles
    from registry.models import Project

    for n in range(40):
        make_project(
            name=f"P{(n * 7) % 40:02d}",
            track_slug=("agents", "coding")[n % 2],
            stage=("idea", "launched")[n % 3 == 0],
            hq_country=("CN", "JP")[n % 5 == 0],
            published=n % 11 != 5,
        )
    filterset = ProjectFilterSet(
        QueryDict("stage=launched&hq_country=CN"), queryset=Project.objects.published()
    )
    tracks = list(Track.objects.filter(slug__in=["agents", "coding"]).values_list("pk", flat=True))

    assert filterset.narrows_beyond_tracks()
    assert not ProjectFilterSet(
        QueryDict("track=agents&sort=name"), queryset=Project.objects.all()
    ).narrows_beyond_tracks()
    two_steps = first_tiles(filterset.qs, tracks, 5, filtered=True)
    one_step = first_tiles(filterset.qs, tracks, 5, filtered=False)
    assert two_steps == one_step
    expected = {
        pk: [p.name for p in filterset.qs.filter(track=pk).order_by("name", "pk")[:5]] for pk in tracks
    }
    assert {pk: [row[1] for row in rows] for pk, rows in two_steps.items()} == expected
    assert all(len(rows) == 5 for rows in two_steps.values())
