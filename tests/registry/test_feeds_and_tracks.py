"""The Atom feed, the sitemap, robots.txt and the track pages: published projects only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.base import make_project

pytestmark = pytest.mark.django_db


def test_the_feed_lists_published_projects_only(client):
    make_project(name="Public Lark", tagline="Shown in the feed")
    make_project(name="Draft Lark", published=False)
    make_project(name="Future Lark", published_at=timezone.now() + timedelta(days=1))
    response = client.get("/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "Public Lark" in response.text and "Shown in the feed" in response.text
    assert "Draft Lark" not in response.text and "Future Lark" not in response.text


def test_the_feed_escapes_markup(client):
    make_project(name="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in client.get("/feed/").text


def test_the_sitemap_lists_public_projects_and_tracks(client):
    public = make_project(name="Public Lark")
    hidden = make_project(name="Draft Lark", published=False)
    text = client.get("/sitemap.xml").text
    assert public.get_absolute_url() in text and hidden.get_absolute_url() not in text
    assert "/tracks/agents/" in text


def test_robots_points_at_the_sitemap_and_keeps_crawlers_out_of_private_pages(client, settings):
    settings.SITE_URL = "https://map.example.org"
    text = client.get("/robots.txt", headers={"host": "testserver:31337"}).text
    assert "Sitemap: https://map.example.org/sitemap.xml" in text
    assert "Disallow: /my/" in text and "Disallow: /admin/" in text


def test_a_track_page_shows_its_published_projects(client):
    make_project(name="Agent One", track_slug="agents")
    make_project(name="Coder", track_slug="coding")
    make_project(name="Hidden Agent", track_slug="agents", published=False)
    response = client.get("/tracks/agents/", headers={"accept-language": "en"})
    assert "AI agents" in response.text and "Agent One" in response.text
    assert "Coder" not in response.text and "Hidden Agent" not in response.text


def test_an_unknown_track_is_404(client):
    assert client.get("/tracks/no-such-track/").status_code == 404
