"""Absolute URLs come from SITE_URL, never from the Host header (issue 15): ALLOWED_HOSTS
checks the host name, not the port, so `Host: testserver:31337` is let in; nothing it
answers (mail, feed, sitemap, robots.txt, canonical, API, downloads) may point there, and
the page cache (whose key ignores the host) must not carry it to other visitors."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from tests.base import make_project, make_user, text_of

pytestmark = pytest.mark.django_db
SITE = "https://map.example.org"
FORGED = {"host": "testserver:31337", "accept-language": "en"}


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    cache.clear()
    yield
    cache.clear()


def urls_in(text):
    return re.findall(r"https?://[^\s\"'<>]+", text)


def assert_only_site_urls(text, allowed=(SITE,)):
    found = [url for url in urls_in(text) if "31337" in url or "testserver" in url]
    assert found == [], found


def test_a_password_reset_link_is_on_the_sites_address(client):
    user = make_user(email="founder@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    mail.outbox.clear()
    client.post("/accounts/password/reset/", {"email": "founder@example.com"}, headers=FORGED)
    (message,) = mail.outbox
    links = [url for url in urls_in(message.body) if "/accounts/password/reset/key/" in url]
    assert links and all(url.startswith(f"{SITE}/accounts/password/reset/key/") for url in links)
    assert_only_site_urls(message.body)


def test_a_sign_up_confirmation_link_is_on_the_sites_address(client):
    mail.outbox.clear()
    client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Tea-kettle-orbit-93", "password2": "Tea-kettle-orbit-93"},
        headers=FORGED,
    )
    (message,) = mail.outbox
    assert f"{SITE}/accounts/confirm-email/" in message.body
    assert_only_site_urls(message.body)


@pytest.mark.parametrize(
    "path", ["/feed/", "/sitemap.xml", "/robots.txt", "/api/projects/", "/api/tracks/", "/data/projects.json"]
)
def test_machine_readable_answers_point_at_the_site(client, path):
    make_project(name="Lark", slug="lark")
    response = client.get(path, headers=FORGED)
    assert response.status_code == 200
    text = text_of(response)
    assert SITE in text
    assert_only_site_urls(text)


@override_settings(PAGE_CACHE_SECONDS=60)
def test_a_forged_port_cannot_poison_the_cached_project_page(client):
    project = make_project(name="Lark")
    poisoned = client.get(project.get_absolute_url(), headers=FORGED)
    assert poisoned["X-Page-Cache"] == "miss"
    served = client.get(project.get_absolute_url(), headers={"accept-language": "en"})
    assert served["X-Page-Cache"] == "hit"
    assert f'<link rel="canonical" href="{SITE}/projects/{project.slug}/">' in served.text
    assert_only_site_urls(served.text)
