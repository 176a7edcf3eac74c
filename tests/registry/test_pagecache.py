"""The public pages' cache (registry.pagecache): anonymous visitors get a stored page; any
publication change is visible on the very next request (versioned keys); nobody's
personal page is ever stored or served to another."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry import pagecache
from registry.models import Project
from review import workflow
from review.importing import apply_import
from tests.base import make_project, make_user
from tests.review.import_files import csv_file
from tests.review.workflow_builders import make_editor, make_reviewer, published

pytestmark = pytest.mark.django_db
LIST_URL = "/projects/"


@pytest.fixture(autouse=True)
def page_cache():
    cache.clear()
    with override_settings(PAGE_CACHE_SECONDS=60):
        yield
    cache.clear()


def fetch(client, url=LIST_URL, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response


def test_the_second_anonymous_request_is_served_from_the_cache_without_a_query(client):
    make_project(name="Cached Lark")
    first = fetch(client)
    with CaptureQueriesContext(connection) as queries:
        second = fetch(client)

    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    assert second.content == first.content and "Cached Lark" in second.text
    assert len(queries) == 0
    assert "Accept-Language" in second["Vary"] and "Cookie" in second["Vary"]
    assert "Content-Security-Policy" in second  # added afresh to every answer


@pytest.mark.parametrize("url", ["/", "/map/", "/stats/", "/about/review/", "/api/projects/", "/api/tracks/"])
def test_every_public_page_is_cached(client, url):
    make_project()
    fetch(client, url)
    assert fetch(client, url)["X-Page-Cache"] == "hit"


def test_a_new_project_shows_on_the_next_request(client, django_capture_on_commit_callbacks):
    fetch(client)
    with django_capture_on_commit_callbacks(execute=True):
        make_project(name="Fresh Lark")

    response = fetch(client)

    assert response["X-Page-Cache"] == "miss" and "Fresh Lark" in response.text


def test_publish_and_unpublish_through_the_workflow_show_on_the_next_request(
    client, django_capture_on_commit_callbacks
):
    editor, reviewer, founder = make_editor(), make_reviewer(), make_user()
    fetch(client)
    with django_capture_on_commit_callbacks(execute=True):
        submission = published(founder, editor=editor, reviewer=reviewer, name="Workflow Lark")
    project = submission.project
    assert "Workflow Lark" in fetch(client).text
    detail = project.get_absolute_url()
    assert fetch(client, detail)["X-Page-Cache"] == "miss"
    assert fetch(client, detail)["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        workflow.unpublish(project, by=editor, reason="Asked by the founder")

    assert "Workflow Lark" not in fetch(client).text
    assert client.get(detail).status_code == 404


def test_featuring_in_the_admin_shows_on_the_next_request(
    client, admin_client, django_capture_on_commit_callbacks
):
    project = make_project(name="Star Lark")
    before = fetch(client, "/")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:registry_project_changelist"),
            {"action": "feature", "_selected_action": [project.pk]},
        )

    after = fetch(client, "/")
    assert after["X-Page-Cache"] == "miss" and after.content != before.content


def test_an_import_shows_on_the_next_request(client, django_capture_on_commit_callbacks):
    fetch(client)
    with django_capture_on_commit_callbacks(execute=True):
        apply_import(csv_file([("Imported Lark", "agents")]))

    assert "Imported Lark" in fetch(client).text


def test_a_scheduled_publication_is_never_hidden_by_a_stored_page(client):
    make_project(name="Soon Lark", published_at=timezone.now() + timedelta(seconds=20))
    with mock.patch.object(cache, "set", wraps=cache.set) as stored:
        fetch(client)
    page_timeouts = [
        call.kwargs["timeout"] for call in stored.call_args_list if call.args[0].startswith("aimap:page:")
    ]
    assert page_timeouts and all(0 < timeout <= 20 for timeout in page_timeouts)


def test_pages_of_signed_in_people_are_neither_served_nor_stored(client):
    make_project()
    fetch(client)  # an anonymous copy is stored
    founder = make_user()
    client.force_login(founder)

    personal = fetch(client)
    client.logout()
    anonymous = fetch(client)

    logout = reverse("account_logout")
    assert "X-Page-Cache" not in personal and logout in personal.text
    assert logout not in anonymous.text and anonymous["X-Page-Cache"] == "hit"


def test_a_visitor_with_a_message_waiting_is_not_served_a_stored_page(client):
    fetch(client)
    client.cookies["messages"] = "something"
    assert "X-Page-Cache" not in fetch(client)


def test_each_language_and_the_htmx_partial_are_stored_apart(client):
    make_project()
    chinese = fetch(client, headers={"accept-language": "zh-hans"})
    english = fetch(client, headers={"accept-language": "en"})
    partial = fetch(client, headers={"accept-language": "en", "HX-Request": "true"})

    assert english["X-Page-Cache"] == "miss" and partial["X-Page-Cache"] == "miss"
    assert '<html lang="zh-hans">' in chinese.text and '<html lang="en">' in english.text
    assert "<html" not in partial.text
    assert '<html lang="en">' in fetch(client, headers={"accept-language": "en"}).text


@pytest.mark.parametrize("first", ["false", "true"])
def test_a_forged_htmx_header_cannot_put_a_whole_page_under_the_fragments_key(client, first):
    """HX-Request: false is a whole page (django-htmx decides, as the views do): it is
    stored as one, and the fragment asked for next is a fragment, in either order."""
    make_project()
    one = fetch(client, headers={"accept-language": "en", "HX-Request": first})
    other = fetch(
        client, headers={"accept-language": "en", "HX-Request": "true" if first == "false" else "false"}
    )
    whole, fragment = (one, other) if first == "false" else (other, one)
    assert "<html" in whole.text and "<html" not in fragment.text
    assert one["X-Page-Cache"] == "miss" and other["X-Page-Cache"] == "miss"
    # and each is then served from its own key
    assert "<html" in fetch(client, headers={"accept-language": "en"}).text
    assert "<html" not in fetch(client, headers={"accept-language": "en", "HX-Request": "true"}).text


def test_a_page_larger_than_the_limit_is_never_stored(client, settings):
    make_project()
    settings.PAGE_CACHE_MAX_BYTES = 2000
    assert fetch(client)["X-Page-Cache"] == "miss"
    assert fetch(client)["X-Page-Cache"] == "miss"
    settings.PAGE_CACHE_MAX_BYTES = 10**7
    fetch(client)
    assert fetch(client)["X-Page-Cache"] == "hit"


def test_the_query_string_is_part_of_the_key(client):
    make_project(name="Alpha Lark", track_slug="video")
    make_project(name="Beta Lark", track_slug="healthcare")
    fetch(client, LIST_URL + "?track=video")

    other = fetch(client, LIST_URL + "?track=healthcare")

    assert other["X-Page-Cache"] == "miss" and "Beta Lark" in other.text and "Alpha Lark" not in other.text


def test_errors_are_not_stored(client):
    assert client.get("/projects/no-such-project/").status_code == 404
    response = client.get("/projects/no-such-project/")
    assert response.status_code == 404 and "X-Page-Cache" not in response


def test_nothing_is_cached_when_switched_off(client):
    with override_settings(PAGE_CACHE_SECONDS=0):
        fetch(client)
        assert "X-Page-Cache" not in fetch(client)


def test_a_lost_version_counter_starts_again_without_serving_old_pages(client):
    fetch(client)
    cache.delete(pagecache.VERSION_KEY)
    pagecache.bump()  # incr on a missing key: a fresh number instead

    assert fetch(client)["X-Page-Cache"] == "miss"


def redis_cache():
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return {"BACKEND": "aimap.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15"}  # production's


@pytest.mark.skipif(redis_cache() is None, reason="no Redis on 127.0.0.1:6379")
def test_with_redis_a_bump_by_one_worker_is_seen_by_another(client, django_capture_on_commit_callbacks):
    """Two cache clients stand for two gunicorn workers sharing Redis."""
    config = redis_cache()
    with override_settings(CACHES={"default": config, "other": config}):
        caches["default"].clear()
        fetch(client)
        assert fetch(client)["X-Page-Cache"] == "hit"
        seen_by_other = caches["other"].get(pagecache.VERSION_KEY)

        with django_capture_on_commit_callbacks(execute=True):
            Project.objects.create(
                name="Redis Lark",
                tagline="t",
                description="d",
                track_id=1,
                published=True,
                published_at=timezone.now(),
            )

        assert caches["other"].get(pagecache.VERSION_KEY) == seen_by_other + 1
        response = fetch(client)
        assert response["X-Page-Cache"] == "miss" and "Redis Lark" in response.text
        caches["default"].clear()


@pytest.mark.skipif(redis_cache() is None, reason="no Redis on 127.0.0.1:6379")
def test_the_redis_backend_reuses_one_client_and_still_reads_and_writes():
    with override_settings(CACHES={"default": redis_cache()}):
        backend = caches["default"]
        assert backend._cache.get_client() is backend._cache.get_client(write=True)
        backend.set("aimap-test-key", ("v", b"body"), timeout=5)
        assert backend.get_many(["aimap-test-key", "missing"]) == {"aimap-test-key": ("v", b"body")}
        backend.delete("aimap-test-key")


def test_a_page_stored_at_an_older_version_is_rendered_again_and_replaced(client):
    make_project(name="Old Lark")
    fetch(client)
    assert fetch(client)["X-Page-Cache"] == "hit"

    pagecache.bump()  # what a commit elsewhere does
    Project.objects.filter(name="Old Lark").update(name="New Lark")  # no signal: only the bump tells

    response = fetch(client)
    assert response["X-Page-Cache"] == "miss" and "New Lark" in response.text
    again = fetch(client)
    assert again["X-Page-Cache"] == "hit" and "New Lark" in again.text
