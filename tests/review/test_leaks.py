"""Drafts and pending content never appear on a public page.

A unique marker goes into every text field of submissions in every state before
publication (and into an update of a published project); then every public URL is
fetched, anonymously and in both languages, and searched for it.
"""

import pytest
from django.urls import reverse

from registry.models import Project, Track
from review.models import Submission
from tests.base import make_project, make_submission

pytestmark = pytest.mark.django_db
MARKER = "LEAK-4f9c2e"
UNPUBLISHED_STATES = [state for state in Submission.State if state != Submission.State.PUBLISHED]


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


def public_urls():
    """Every public page: the fixed ones, every page of the list, every public project."""
    urls = [
        reverse("registry:home"),
        reverse("registry:project-list"),
        reverse("registry:feed"),
        reverse("registry:sitemap"),
        reverse("registry:map"),
        reverse("stats"),
        reverse("registry:about-review"),
        reverse("registry:data-csv"),
        reverse("registry:data-json"),
        reverse("registry:api-projects"),
        reverse("registry:api-tracks"),
        *(track.get_absolute_url() for track in Track.objects.all()),
    ]
    count = Project.objects.published().count()
    urls += [f"{reverse('registry:project-list')}?page={n}" for n in range(1, count // 24 + 2)]
    urls += [project.get_absolute_url() for project in Project.objects.published()]
    urls += [reverse("registry:api-project", args=[project.slug]) for project in Project.objects.published()]
    return urls


def test_no_pending_content_on_any_public_page(client, founder):
    live = make_project(owner=founder, name="Live listing", tagline="Live tagline")
    make_project(name="Another live one")
    for state in UNPUBLISHED_STATES:
        make_submission(
            founder,
            state=state,
            name=f"{MARKER} name {state}",
            name_en=f"{MARKER} en",
            tagline=f"{MARKER} tagline",
            description=f"{MARKER} description",
            organization=f"{MARKER} org",
            models_used=MARKER,
        )
    make_submission(
        founder, kind="update", project=live, state="in_review", name=f"{MARKER} update", tagline=MARKER
    )
    urls = public_urls()
    assert len(urls) >= 5
    for language in ("en", "zh-hans"):
        for url in urls:
            response = client.get(url, headers={"accept-language": language})
            assert response.status_code == 200, url
            assert MARKER not in body(response), f"{url} shows pending content"
    assert "Live tagline" in client.get(live.get_absolute_url()).text


def test_an_unpublished_project_is_on_no_public_page(client):
    hidden = make_project(published=False, name=f"{MARKER} hidden")
    make_project(name="Visible")
    for url in public_urls():
        assert MARKER not in body(client.get(url)), url
    assert client.get(hidden.get_absolute_url()).status_code == 404
