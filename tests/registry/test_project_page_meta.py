"""A project page shared on social media or found by a search engine: Open Graph tags and
the canonical link, with absolute URLs, and the project's own text escaped."""

import html
from html.parser import HTMLParser

import pytest
from django.test import override_settings

from tests.base import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver"


class HeadTags(HTMLParser):
    """The <meta property=…> and <link rel=…> tags of a page, attributes unescaped."""

    def __init__(self):
        super().__init__()
        self.meta = {}
        self.links = {}
        self.counts = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "property" in attrs:
            self.meta[attrs["property"]] = attrs.get("content")
            self.counts[attrs["property"]] = self.counts.get(attrs["property"], 0) + 1
        elif tag == "link" and "rel" in attrs:
            self.links[attrs["rel"]] = attrs.get("href")


def head_of(response):
    assert response.status_code == 200
    parser = HeadTags()
    parser.feed(response.text)
    return parser


def test_a_project_page_has_open_graph_tags_and_a_canonical_link(client):
    project = make_project(name="灵犀客服", name_en="Lingxi Support", tagline="为网店做客服的智能体")
    head = head_of(client.get(project.get_absolute_url()))
    url = f"http://testserver/projects/{project.slug}/"
    assert head.links["canonical"] == url
    assert head.meta["og:url"] == url
    assert head.meta["og:type"] == "website"
    assert head.meta["og:title"] == "灵犀客服"
    assert head.meta["og:description"] == "为网店做客服的智能体"
    assert head.meta["og:site_name"]
    assert "og:image" not in head.meta  # no logo, no image
    assert all(count == 1 for count in head.counts.values())


def test_the_canonical_url_leaves_out_the_query_string_and_is_on_the_sites_address(client, settings):
    """SITE_URL's, whatever the request's scheme, host or port (ALLOWED_HOSTS checks no port:
    a link to map.example.org:31337 would have been cached for every visitor)."""
    settings.SITE_URL = "https://map.example.org"
    project = make_project(name="Lark")
    for host in ("localhost", "localhost:31337", "testserver:8443"):
        response = client.get(project.get_absolute_url() + "?utm_source=wechat&ref=x", headers={"host": host})
        head = head_of(response)
        assert head.links["canonical"] == f"https://map.example.org/projects/{project.slug}/"
        assert head.meta["og:url"] == head.links["canonical"]


def test_the_logo_is_the_image_with_an_absolute_url(client):
    project = make_project(name="Lark", logo="logos/0123abcd.webp")
    head = head_of(client.get(project.get_absolute_url()))
    assert head.meta["og:image"] == "http://testserver/media/logos/0123abcd.webp"
    assert head.meta["og:image:alt"] == "Lark"


@override_settings(MEDIA_URL="https://cdn.example.com/media/")
def test_a_logo_served_from_elsewhere_keeps_its_own_absolute_url(client):
    project = make_project(name="Lark", logo="logos/0123abcd.webp")
    head = head_of(client.get(project.get_absolute_url()))
    assert head.meta["og:image"] == "https://cdn.example.com/media/logos/0123abcd.webp"


@pytest.mark.parametrize(
    "tagline",
    [
        '"><script>alert(1)</script>',
        "<b>bold</b> & 'quoted' text",
        "客服 <img src=x onerror=alert(1)>",
    ],
)
def test_html_in_the_name_and_tagline_is_escaped_in_the_tags(client, tagline):
    project = make_project(name='Lark"><i>x</i>', name_en="Lark", tagline=tagline)
    response = client.get(project.get_absolute_url())
    head = head_of(response)
    # Read back by an HTML parser, the attributes hold exactly the text entered…
    assert head.meta["og:description"] == tagline
    assert head.meta["og:title"] == 'Lark"><i>x</i>'
    # …because nothing of it reached the page as markup.
    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text
    assert "<i>x</i>" not in response.text
    assert "<b>bold</b>" not in response.text
    assert f'<meta property="og:description" content="{html.escape(tagline)}">' in response.text
