"""The leak hunt, over every public URL and every format.

A marker goes into every field of what the public must never see: submissions in every
state before publication (new ones, an update of a live project, a claim), unpublished
and scheduled projects, and the private parts of published projects (a contact address
not chosen to be shown, the owner's address and name, reviewers' comments and internal
notes, conflicts of interest and their reasons, claim evidence, the audit trail's notes
and details, staff names, an imported list's file and summary). Then every public URL,
read from the URLconf so that a new one is hunted too, is fetched in every format (HTML
pages, the htmx results, the Atom feed, the sitemap, robots.txt, the JSON API page by page
and per project, the CSV and JSON downloads), in both languages, anonymously and as
another founder, plainly and with filters and a search for the marker: the marker is on
none of them. Unpublished and scheduled projects' own URLs are 404s without it.

tests/review/test_leaks.py is the first, smaller hunt (pending content on HTML pages).
"""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from registry.models import Project, Track
from review.models import Conflict, Event, ListImport, Review, Submission
from tests.base import make_project, make_submission, make_user
from tests.review.import_files import csv_file
from tests.security.helpers import body, callback_module, url_from_route, walk

pytestmark = pytest.mark.django_db
State = Submission.State
MARK = "zqxleak"
FOUND = re.compile(rf"{MARK}-[a-z0-9_-]+", re.IGNORECASE)
LANGUAGES = ["en", "zh-hans"]
TEXT_FIELDS = ["name", "name_en", "tagline", "description", "organization", "hq_city", "models_used"]


def marked(tag):
    """Listing content whose every field carries the marker and says where it came from."""
    fields = {name: f"{MARK}-{tag}-{name}"[:80] for name in TEXT_FIELDS}
    fields["website"] = f"https://example.com/{MARK}-{tag}-website"
    fields["contact_email"] = f"{MARK}-{tag}-contact@example.com"
    return fields


@pytest.fixture
def world(db):
    owner = make_user(f"{MARK}-owner-username", email=f"{MARK}-owner@example.com", first_name=f"{MARK}-owner")
    reviewer = make_user(f"{MARK}-reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    editor = make_user(f"{MARK}-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))

    # Published projects: what the public sees, with private parts around them.
    live = make_project(
        owner=owner,
        slug="live",
        name="Live listing",
        tagline="Live tagline",
        contact_email=f"{MARK}-hidden-contact@example.com",
        show_contact_email=False,
        secondary=("customer-service",),
    )
    shown = make_project(
        slug="shown", name="Shown contact", contact_email="hello@shown.example", show_contact_email=True
    )
    for number in range(3):
        make_project(slug=f"filler-{number}", name=f"Filler {number}", track_slug="coding")
    Event.objects.create(project=live, actor=editor, action="unpublish", note=f"{MARK}-unpublish-note")
    Event.objects.create(project=live, actor=editor, action="republish", note=f"{MARK}-republish-note")

    # Unpublished and scheduled projects.
    make_project(published=False, slug="hidden", **marked("unpublished-project"))
    make_project(
        slug="scheduled", published_at=timezone.now() + timedelta(days=3), **marked("scheduled-project")
    )
    make_project(  # published once, taken down since
        published=False,
        slug="taken-down",
        first_published_at=timezone.now() - timedelta(days=9),
        **marked("taken-down-project"),
    )

    # Submissions in every state before publication, and an update and a claim.
    for state in State:
        if state != State.PUBLISHED:
            submission = make_submission(
                owner, state=state, claim_evidence=f"{MARK}-{state}-evidence", **marked(state)
            )
            Review.objects.create(
                submission=submission,
                reviewer=reviewer,
                authenticity=2,
                innovation=2,
                completeness=2,
                recommendation="reject",
                comment=f"{MARK}-{state}-review-comment",
                internal_note=f"{MARK}-{state}-internal-note",
            )
            Event.objects.create(
                submission=submission,
                actor=reviewer,
                action="review",
                note=f"{MARK}-{state}-event-note",
                detail=f"{MARK}-{state}-event-detail",
            )
    update = make_submission(owner, kind="update", project=live, state=State.IN_REVIEW, **marked("update"))
    claimant = make_user("claimant", email=f"{MARK}-claimant@example.com")
    make_submission(
        claimant,
        kind="claim",
        project=shown,
        state=State.SUBMITTED,
        claim_evidence=f"{MARK}-claim-evidence",
        **marked("claim"),
    )
    published = make_submission(
        owner, kind="update", project=live, state=State.PUBLISHED, name="Live listing"
    )
    Review.objects.create(
        submission=published,
        reviewer=reviewer,
        authenticity=5,
        innovation=5,
        completeness=5,
        recommendation="approve",
        comment=f"{MARK}-published-review-comment",
        internal_note=f"{MARK}-published-internal-note",
    )

    # Conflicts of interest and their reasons; an imported list's record.
    Conflict.objects.create(
        reviewer=reviewer, kind="investment", project=live, note=f"{MARK}-conflict-note", declared_by=editor
    )
    Conflict.objects.create(
        reviewer=reviewer,
        kind="other",
        organization=f"{MARK}-conflict-organization",
        note=f"{MARK}-conflict-reason",
    )
    Conflict.objects.create(
        reviewer=editor, kind="personal", submission=update, note=f"{MARK}-conflict-submission"
    )
    ListImport.objects.create(
        file_name=f"{MARK}-import-file.csv",
        data=csv_file([(f"{MARK}-import-row", "agents")]),
        summary={"note": f"{MARK}-import-summary"},
        created_by=editor,
    )
    return {"owner": owner, "live": live}


# --- The public URLs, from the URLconf -----------------------------------------------------

PUBLIC_MODULES = ("registry.", "aimap.views", "django.contrib.sitemaps")


def public_routes():
    """Every route of the URLconf that anyone may fetch: the registry's, the site-wide
    views (language links, track colours) and the sitemap."""
    return sorted(
        {
            route
            for route, _name, callback in walk()
            if callback_module(callback).startswith(PUBLIC_MODULES)
            and not route.startswith(settings.ADMIN_URL)
        }
    )


def slugs_for(route):
    public = list(Project.objects.published().values_list("slug", flat=True))
    private = list(Project.objects.exclude(pk__in=Project.objects.published()).values_list("slug", flat=True))
    if route.startswith(("projects/", "api/projects/")):
        return public + private + ["no-such-project"]
    if route.startswith("tracks/"):
        return [*Track.objects.values_list("slug", flat=True), "no-such-track"]
    raise AssertionError(f"a public route with a slug the leak hunt does not know: {route}")


def urls_of(route):
    """The URLs of one route: each project or track for a slug, each language for a code."""
    if "<slug:slug>" in route:
        return [url_from_route(route, {"slug": slug}) for slug in slugs_for(route)]
    if "<str:code>" in route:
        return [url_from_route(route, {"code": code}) + "?next=/" for code in LANGUAGES]
    assert "<" not in route and "(?P" not in route, f"a public route the leak hunt does not know: {route}"
    return [url_from_route(route, {})]


SEARCHES = [
    f"q={MARK}",
    f"q={quote(MARK.upper())}",
    "q=zqx",
    f"hq_city={MARK}",
    f"q={MARK}&track=agents&stage=launched&sort=name",
    f"status=active&track=agents&q={MARK}",
]
FILTERED = [
    "/",
    "/projects/",
    "/map/",
    "/stats/",
    "/api/projects/",
    "/data/projects.csv",
    "/data/projects.json",
]


def every_public_url():
    urls = []
    for route in public_routes():
        urls += urls_of(route)
    count = Project.objects.published().count()
    urls += [f"/projects/?page={page}" for page in range(1, count // 24 + 3)]
    urls += [f"/projects/?per_page=96&page={page}" for page in (1, 2)]
    urls += [f"/api/projects/?page_size=1&page={page}" for page in range(1, count + 2)]
    urls += [f"/api/projects/?page_size=200&page={page}" for page in (1, 2)]
    urls += [f"{url}?{search}" for url in FILTERED for search in SEARCHES]
    urls += [f"/tracks/{slug}/?q={MARK}" for slug in ("agents", "customer-service", "coding")]
    urls += ["/projects/?page=999999", "/api/projects/?page=999999", "/sitemap-projects.xml"]
    return urls


def test_every_public_route_is_hunted(db):
    routes = public_routes()
    assert {"", "projects/", "feed/", "sitemap.xml", "robots.txt", "data/projects.csv", "api/tracks/"} <= set(
        routes
    )
    for route in routes:
        assert urls_of(route), route


def hunt(client, url, headers=None):
    response = client.get(url, headers=headers or {})
    assert response.status_code in (200, 302, 404), (url, response.status_code)
    text = body(response)
    leaked = sorted(set(FOUND.findall(text)))
    assert not leaked, f"{url} shows {leaked}"
    return response


def test_nothing_private_is_on_any_public_url_in_any_format(world):
    urls = every_public_url()
    other = make_user("another-founder")
    clients = {"a visitor": Client(), "another founder": Client()}
    clients["another founder"].force_login(other)
    probed = 0
    statuses = {}
    for who, client in clients.items():
        for language in LANGUAGES if who == "a visitor" else ["en"]:
            for url in urls:
                response = hunt(client, url, {"accept-language": language})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                probed += 1
            hunt(client, "/projects/?q=" + MARK, {"accept-language": language, "HX-Request": "true"})
            probed += 1
    print(
        f"\nleak hunt: {len(urls)} public URLs, {probed} requests (two languages, two kinds of visitor): {statuses}"
    )
    assert len(urls) >= 100 and statuses[200] >= len(urls)


def test_the_private_projects_own_urls_are_404(world):
    client = Client()
    for slug in ("hidden", "scheduled", "taken-down"):
        for url in (f"/projects/{slug}/", f"/api/projects/{slug}/"):
            assert hunt(client, url).status_code == 404, url


def test_the_marker_is_really_there_to_be_found(world):
    """The hunt would see a leak: the marker is in the database, searchable, and the same
    search shows public content."""
    assert Submission.objects.filter(name__startswith=MARK).count() >= 7
    assert Project.objects.filter(name__startswith=MARK).count() == 3
    client = Client()
    page = client.get("/projects/?q=Live").text
    assert "Live tagline" in page
    response = client.get(f"/projects/?q={MARK}")
    assert response.status_code == 200 and response.context["paginator"].count == 0
    # What the owner sees on their own pages does carry it: the marker is not unreadable.
    owner = Client()
    owner.force_login(world["owner"])
    assert FOUND.search(owner.get("/my/").text)
