"""XSS: markup typed into any text field is shown as text everywhere it is shown.

The payload goes into every text field of a published project (and of a submission, its
reviews, events and conflicts); then every place that shows them is fetched: the public
pages (with the payload in the filters and the search too), the founder's pages, the admin
(lists, change pages, the review page, an import's preview, its messages), the feed, the
sitemap, the JSON API and downloads, and the decision emails. In HTML nothing of the
payload may come out as markup; in JSON it must come out as the same string, as data; a
`javascript:` website is refused wherever a website can be entered.
"""

import json
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from registry.models import Project
from registry.validators import validate_http_url
from review import importing, workflow
from review.models import Conflict, Event, ListImport, Review, Submission
from tests.base import make_project, make_submission, make_user, track
from tests.review.import_files import csv_file
from tests.security.helpers import body

pytestmark = pytest.mark.django_db
State = Submission.State
EN = {"accept-language": "en"}

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}{% debug %}"
EMAIL = '"<script>alert(1)</script>"@example.com'  # a valid address: quoted local parts may hold markup
WEBSITE = 'https://example.com/"><script>alert(1)</script>'  # a valid http(s) URL
# What must never come out of an HTML page as it went in.
RAW = ["<script>alert(1)", "<img src=x onerror", "\"'><", "<img src=x", "onerror=alert(1)>"]
# What shows that the payload was on the page, escaped.
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEXT_FIELDS = ["name", "name_en", "tagline", "description", "organization", "hq_city", "models_used"]
JAVASCRIPT_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "javascript://example.com/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]


def assert_escaped(text, where, *, shown=True):
    for raw in RAW:
        assert raw not in text, f"{where}: {raw!r} comes out as markup"
    if shown:
        assert ESCAPED in text, f"{where}: the payload is not shown at all, so this proves nothing"


@pytest.fixture
def world(db):
    founder = make_user("founder")
    editor = make_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = make_user("reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    validate_http_url(WEBSITE)  # what makes it a fair test: it passes validation
    fields = dict.fromkeys(TEXT_FIELDS, PAYLOAD)
    fields["description"] = f"{PAYLOAD}\n\n{PAYLOAD} {TEMPLATE}"
    project = make_project(
        owner=founder,
        slug="payload",
        featured=True,
        website=WEBSITE,
        contact_email=EMAIL,
        show_contact_email=True,
        secondary=("customer-service",),
        **fields,
    )
    templated = make_project(name=f"Braces {TEMPLATE}", tagline=TEMPLATE, slug="braces")
    submission = make_submission(
        founder,
        state=State.IN_REVIEW,
        kind="claim",
        project=make_project(name="Claimed", slug="claimed"),
        website=WEBSITE,
        contact_email=EMAIL,
        claim_evidence=PAYLOAD,
        **fields,
    )
    submission.reviewers.add(reviewer)
    Review.objects.create(
        submission=submission,
        reviewer=reviewer,
        authenticity=3,
        innovation=3,
        completeness=3,
        recommendation="request_changes",
        comment=PAYLOAD,
        internal_note=PAYLOAD,
    )
    Event.objects.create(
        submission=submission, actor=reviewer, action="request_changes", note=PAYLOAD, detail=PAYLOAD
    )
    Conflict.objects.create(
        reviewer=make_user("conflicted", is_staff=True),
        kind="other",
        submission=submission,
        note=PAYLOAD,
        organization=PAYLOAD,
    )
    return {
        "founder": founder,
        "editor": editor,
        "reviewer": reviewer,
        "project": project,
        "templated": templated,
        "submission": submission,
    }


def client_for(user=None):
    client = Client(headers=EN)
    if user is not None:
        client.force_login(user)
    return client


P = quote(PAYLOAD)

PUBLIC_PAGES = [
    "/",
    "/projects/",
    f"/projects/?q={P}",
    f"/projects/?hq_city={P}",
    f"/projects/?stage={P}&track={P}&hq_country={P}&sort={P}&page={P}&per_page={P}&founded_min={P}",
    f"/projects/?modalities={P}&seeking={P}&business_models={P}&status={P}&team_size={P}",
    "/projects/payload/",
    "/projects/braces/",
    "/tracks/agents/",
    "/tracks/customer-service/",  # its secondary track: listed or not, never as markup
    f"/tracks/agents/?q={P}&stage={P}",
    "/map/",
    f"/map/?q={P}&stage={P}",
    "/stats/",
    f"/stats/?hq_city={P}&stage={P}",
    "/about/review/",
    f"/projects/{P}/",  # a 404 page
]


NOT_LISTING_IT = {"/about/review/", "/projects/braces/", "/tracks/customer-service/"}


def test_public_pages_show_the_payload_as_text(world):
    client = client_for()
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        text = body(response)
        # Where the project itself is listed the payload must be there, escaped.
        shown = response.status_code == 200 and "?" not in url and url not in NOT_LISTING_IT
        assert_escaped(text, url, shown=shown)
    htmx = client.get(f"/projects/?q={P}", headers={"HX-Request": "true"})
    assert_escaped(body(htmx), "the list's results for htmx", shown=False)


def test_the_project_page_shows_every_field_as_text(world):
    text = client_for().get("/projects/payload/").text
    assert_escaped(text, "the project page")
    # In attributes (meta description, Open Graph, the logo's alt text) as well as in text.
    assert 'content="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&gt;&lt;img' in text
    assert text.count(ESCAPED) >= len(TEXT_FIELDS)
    assert 'href="mailto:&quot;&lt;script&gt;' in text  # the contact address, escaped in the link
    assert 'href="https://example.com/&quot;&gt;&lt;script&gt;' in text  # the website, too


def test_template_syntax_in_content_is_never_run(world):
    for url in ("/projects/braces/", "/projects/", "/feed/", "/map/"):
        text = body(client_for().get(url))
        assert TEMPLATE in text, url  # shown as typed, never worked out


def test_the_feed_gives_readers_text_not_markup(world):
    """Atom's <summary type="html"> is HTML once the XML is read: the tagline must be
    escaped for HTML inside the XML, or every feed reader would run it."""
    response = client_for().get("/feed/")
    feed = ElementTree.fromstring(response.content)
    atom = "{http://www.w3.org/2005/Atom}"
    entries = {entry.findtext(f"{atom}id"): entry for entry in feed.iter(f"{atom}entry")}
    entry = next(entry for key, entry in entries.items() if key.endswith("/projects/payload/"))
    title = entry.find(f"{atom}title")
    assert title.get("type") in (None, "text") and title.text.startswith(PAYLOAD)  # text: shown as is
    summary = entry.find(f"{atom}summary")
    if summary.get("type") == "html":
        assert_escaped(summary.text, "the feed's summary, as HTML")
    else:
        assert summary.text == PAYLOAD


def test_the_sitemap_is_well_formed(world):
    response = client_for().get("/sitemap.xml")
    ElementTree.fromstring(response.content)
    assert_escaped(body(response), "the sitemap", shown=False)


def test_json_carries_the_payload_as_data(world):
    client = client_for()
    project = world["project"]
    for url in (
        "/api/projects/",
        f"/api/projects/?q={P}",
        "/api/projects/payload/",
        "/data/projects.json",
        f"/data/projects.json?q={P}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/json"), url
        assert response["X-Content-Type-Options"] == "nosniff", url  # never sniffed as HTML
        data = json.loads(body(response))
        records = data if isinstance(data, list) else data.get("results", [data])
        record = next(record for record in records if record["slug"] == project.slug)
        for name in TEXT_FIELDS:
            assert record[name] == getattr(project, name), (url, name)
        assert record["contact_email"] == EMAIL and record["website"] == WEBSITE, url
    ignored = client.get(f"/api/projects/?stage={P}").json()["ignored"]
    assert PAYLOAD in ignored[0]  # echoed as data, in JSON


def test_the_csv_is_served_as_a_download(world):
    response = client_for().get("/data/projects.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_founders_pages_show_the_payload_as_text(world):
    founder, submission, project = world["founder"], world["submission"], world["project"]
    Submission.objects.filter(pk=submission.pk).update(state=State.CHANGES_REQUESTED)
    client = client_for(founder)
    pages = [
        "/my/",
        submission.get_absolute_url(),
        reverse("review:submission-edit", args=[submission.pk]),
        reverse("review:project-edit", args=[project.slug]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.text, url)
    claim = client_for(make_user("claimant")).get(reverse("review:project-claim", args=["payload"]))
    assert_escaped(claim.text, "the claim page")
    # A refused form comes back with what was typed, escaped in its value attributes.
    refused = client.post(
        reverse("review:submission-new"), {**dict.fromkeys(TEXT_FIELDS, PAYLOAD), "action": "submit"}
    )
    assert refused.status_code == 200
    assert_escaped(refused.text, "the refused submission form")
    assert (
        'value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;"'
        in (refused.text)
    )


def test_the_admin_shows_the_payload_as_text(world):
    submission, project = world["submission"], world["project"]
    for who in ("editor", "reviewer"):
        client = client_for(world[who])
        pages = [
            reverse("admin:registry_project_changelist"),
            f"{reverse('admin:registry_project_changelist')}?q={P}",
            reverse("admin:registry_project_change", args=[project.pk]),
            reverse("admin:review_submission_changelist"),
            f"{reverse('admin:review_submission_changelist')}?q={P}",
            reverse("admin:review_submission_change", args=[submission.pk]),
        ]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            assert_escaped(response.text, f"{url} for the {who}", shown="?q=" not in url)
    conflicts = client_for(world["editor"]).get(reverse("admin:review_conflict_changelist"))
    assert_escaped(conflicts.text, "the list of conflicts")


def test_admin_messages_naming_the_submission_are_escaped(world):
    """The bulk actions' reports name each submission; the publish button's report too."""
    client = client_for(world["editor"])
    response = client.post(
        reverse("admin:review_submission_changelist"),
        {"action": "publish_selected", "_selected_action": [world["submission"].pk], "index": 0},
        follow=True,
    )
    assert "cannot publish" in response.text  # the refusal names the submission
    assert_escaped(response.text, "the bulk action's message")
    response = client.post(
        reverse("admin:review_submission_transition", args=[world["submission"].pk, "reject"]),
        {"version": 1, "text": PAYLOAD},
        follow=True,
    )
    assert "is now rejected" in response.text
    assert_escaped(response.text, "the button's message")


def test_an_import_preview_shows_the_payload_as_text(world):
    data = csv_file(
        [(PAYLOAD, "agents", PAYLOAD), (PAYLOAD + "2", PAYLOAD, "x")], header=("name", "track", "tagline")
    )
    batch = ListImport.objects.create(file_name=f"{PAYLOAD}.csv", data=data, created_by=world["editor"])
    client = client_for(world["editor"])
    for url in (
        reverse("admin:review_listimport_change", args=[batch.pk]),
        reverse("admin:review_listimport_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.text, url)


def test_decision_emails_show_the_payload_as_text(world, django_capture_on_commit_callbacks):
    submission = world["submission"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_changes(submission, by=world["editor"], comment=PAYLOAD)
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    assert_escaped(html, "the decision email's HTML")


# --- A website is http(s) or nothing --------------------------------------------------------


@pytest.mark.parametrize("website", JAVASCRIPT_URLS)
def test_the_founders_form_refuses_a_script_website(website):
    founder = make_user("founder")
    client = client_for(founder)
    response = client.post(
        reverse("review:submission-new"), {"name": "Sneaky", "website": website, "action": "save"}
    )
    assert response.status_code == 200
    assert "website" in response.context["form"].errors
    assert not Submission.objects.exists()


@pytest.mark.parametrize("website", JAVASCRIPT_URLS)
def test_the_project_admin_refuses_a_script_website(website):
    editor = make_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    project = make_project(name="Plain")
    data = {
        "name": "Plain",
        "tagline": project.tagline,
        "description": project.description,
        "track": project.track_id,
        "hq_country": "CN",
        "status": "active",
        "listed_by": project.listed_by,
        "website": website,
        "_save": "Save",
    }
    response = client_for(editor).post(reverse("admin:registry_project_change", args=[project.pk]), data)
    assert response.status_code == 200
    assert "website" in response.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.website == ""


@pytest.mark.parametrize("website", JAVASCRIPT_URLS)
def test_an_import_refuses_a_script_website(db, website):
    plan = importing.plan_import(
        csv_file([("Sneaky", "agents", website)], header=("name", "track", "website"))
    )
    (row,) = plan.rows
    assert "website" in row.errors or any("website" in str(error) for error in row.errors)


@pytest.mark.parametrize("website", JAVASCRIPT_URLS)
def test_the_model_refuses_a_script_website(db, website):
    with pytest.raises(ValidationError) as refused:
        Project(name="x", tagline="x", description="x", track=track(), website=website).full_clean(
            exclude=["slug", "search_tokens"]
        )
    assert "website" in refused.value.error_dict
