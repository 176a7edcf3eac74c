"""The ownership matrix: every founder URL and every custom admin URL, against every kind of
person, by every method it answers.

The URLs come from the URLconf itself (tests.security.helpers.walk): a founder view added
to review/urls.py, or a custom admin view added to a ModelAdmin, fails
`test_every_founder_url_is_in_the_matrix` / `test_every_custom_admin_url_is_in_the_matrix`
until it is given its row here.

For each URL one world is built (an owner with a draft, a submitted, an in-review and an
approved submission, a published and an unpublished project, an imported list waiting for
confirmation, and the people around them), and each person's request is made inside a
savepoint rolled back afterwards, so every person meets the same world. A refused request
must leave every row as it was (tests.security.helpers.snapshot); an allowed one must
change something, which shows the data posted would have done harm had it been let through.
"""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import reverse

from review.models import Concern, Conflict, ListImport, Review, Submission
from tests.base import make_project, make_submission, make_user, track
from tests.review.import_files import csv_file
from tests.security.helpers import body, callback_module, changes, snapshot, walk

pytestmark = pytest.mark.django_db
State = Submission.State
EN = {"accept-language": "en"}
SECRET = "OWNERS-SECRET-7b1d"  # in the owner's submissions: nobody else may read it

NOT_STAFF = ["anonymous", "owner", "other"]
STAFF = ["intern", "reviewer", "assigned", "conflicted", "editor", "conflicted_editor"]
PEOPLE = NOT_STAFF + STAFF


def member(username, *groups):
    user = make_user(username, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def complete(**changes):
    """Everything the founder's form needs to submit."""
    data = {
        "name": "Proposed by someone",
        "tagline": "A tagline",
        "description": "What it does.",
        "track": track("customer-service").pk,
        "hq_city": "杭州",
        "hq_country": "CN",
        "status": "active",
        "organization": "Owner Org",
    }
    data.update(changes)
    return data


@pytest.fixture
def world(db):
    owner = make_user("owner")
    people = {
        "owner": owner,
        "other": make_user("other"),
        "intern": make_user("intern", is_staff=True),
        "reviewer": member("reviewer", "Reviewers"),
        "assigned": member("assigned", "Reviewers"),
        "conflicted": member("conflicted", "Reviewers"),
        "editor": member("editor", "Editors"),
        "conflicted_editor": member("conflicted_editor", "Editors"),
    }
    content = {"organization": "Owner Org", "tagline": f"{SECRET} tagline", "description": SECRET}
    draft = make_submission(owner, name=f"{SECRET} draft", hq_country="CN", **content)
    submitted = make_submission(owner, state=State.SUBMITTED, name=f"{SECRET} submitted", **content)
    in_review = make_submission(owner, state=State.IN_REVIEW, name=f"{SECRET} in review", **content)
    in_review.reviewers.add(people["assigned"], people["conflicted"])
    Review.objects.create(
        submission=in_review,
        reviewer=people["assigned"],
        authenticity=4,
        innovation=4,
        completeness=4,
        recommendation="approve",
        internal_note=f"{SECRET} internal note",
    )
    approved = make_submission(owner, state=State.APPROVED, name=f"{SECRET} approved", **content)
    # Conflicts declared straight into the table: the conflicted reviewer stays assigned,
    # and the rules must still refuse them.
    for person in ("conflicted", "conflicted_editor"):
        Conflict.objects.create(reviewer=people[person], kind="employment", organization="owner org")
    project = make_project(owner=owner, name="Owner's live project", organization="Owner Org")
    hidden = make_project(
        owner=owner, published=False, name="Owner's hidden project", organization="Owner Org"
    )
    concern = Concern.objects.create(project=project, source="report", kind="closed", message="Gone?")
    batch = ListImport.objects.create(
        file_name="list.csv", data=csv_file([("Imported one", "agents")]), created_by=people["editor"]
    )
    return SimpleNamespace(
        people=people,
        owner=owner,
        draft=draft,
        submitted=submitted,
        in_review=in_review,
        approved=approved,
        project=project,
        concern=concern,
        hidden=hidden,
        batch=batch,
    )


@contextmanager
def rolled_back():
    """Whatever happens inside is undone: the next person meets the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def client_for(world, who):
    client = Client(headers=EN)
    if who != "anonymous":
        client.force_login(world.people[who])
    return client


def message_levels(response):
    return {message.level_tag for message in get_messages(response.wsgi_request)}


# --- Founder URLs ---------------------------------------------------------------------------

# For each founder URL (review.urls): the object it is about, and per method the data
# posted; "mine": a page about the visitor's own things (the dashboard, the new form),
# "public": a page about a public listing anyone logged in may open (the claim form).
FOUNDER_URLS = {
    "review:dashboard": {"args": lambda w: [], "get": None, "scope": "mine"},
    "review:submission-new": {
        "args": lambda w: [],
        "get": None,
        "post": lambda w: {"name": "A draft of my own", "action": "save"},
        "scope": "mine",
    },
    "review:submission-detail": {"args": lambda w: [w.draft.pk], "get": None},
    "review:submission-edit": {
        "args": lambda w: [w.draft.pk],
        "get": None,
        "post": lambda w: {**complete(name="Changed"), "version": 1, "action": "save"},
    },
    "review:submission-submit": {"args": lambda w: [w.draft.pk], "post": lambda w: {"version": 1}},
    "review:submission-withdraw": {
        "args": lambda w: [w.submitted.pk],
        "post": lambda w: {"reason": "Taken back", "version": 1},
    },
    "review:project-edit": {
        "args": lambda w: [w.project.slug],
        "get": None,
        "post": lambda w: {**complete(name="Changed"), "action": "submit"},
    },
    "review:project-claim": {
        "args": lambda w: [w.project.slug],
        "get": None,
        "post": lambda w: {"claim_evidence": "It is mine, really"},
        "scope": "public",
    },
}


def founder_url_names():
    return sorted(name for route, name, callback in walk() if callback_module(callback) == "review.views")


def test_every_founder_url_is_in_the_matrix():
    names = founder_url_names()
    assert len(names) >= 8
    missing = [name for name in names if name not in FOUNDER_URLS]
    assert not missing, f"founder URLs without a row in the ownership matrix: {missing}"


@pytest.mark.parametrize("name", sorted(FOUNDER_URLS))
def test_founder_urls_are_the_owners_alone(world, name):
    spec = FOUNDER_URLS[name]
    url = reverse(name, args=spec["args"](world))
    scope = spec.get("scope", "owner")
    for who in [*NOT_STAFF, *STAFF]:
        for method in ("get", "post"):
            with rolled_back():
                before = snapshot()
                data = spec[method](world) if callable(spec.get(method)) else {}
                response = getattr(client_for(world, who), method)(url, data)
                after = snapshot()
            case = f"{method.upper()} {url} as {who}"
            text = body(response)
            if who == "anonymous":
                assert response.status_code == 302, case
                assert response.url.startswith(reverse("account_login")), case
                assert not changes(before, after), case
                continue
            if method not in spec:
                assert response.status_code == 405, case
                assert not changes(before, after), case
                continue
            owner = who == "owner"
            if scope == "mine" and method == "post":
                # A new draft of their own, and nobody else's row touched.
                assert response.status_code == 302, case
                assert all(row in after["submissions"] for row in before["submissions"]), case
                mine = [row for row in after["submissions"] if row not in before["submissions"]]
                assert [row["owner_id"] for row in mine] == [world.people[who].pk], case
            elif scope == "mine" or (owner and method == "get"):
                assert response.status_code == 200, case
            elif scope == "public":
                # Anyone logged in may open the claim form of a public listing; nobody may
                # claim one that has an owner, its owner included.
                assert response.status_code == 200, case
                assert not changes(before, after), case
            elif owner:
                assert response.status_code == 302, case
                assert changes(before, after), f"{case}: the control changed nothing"
            else:
                assert response.status_code == 404, case
                assert not changes(before, after), f"{case} changed {changes(before, after)}"
            if not owner:
                assert SECRET not in text, f"{case} shows the owner's submission"


def test_a_founder_cannot_reach_anothers_things_by_guessing_ids(world):
    """Every submission id and project slug of the owner, from another founder's session."""
    client = client_for(world, "other")
    before = snapshot()
    for submission in Submission.objects.filter(owner=world.owner):
        for name in ("review:submission-detail", "review:submission-edit"):
            assert client.get(reverse(name, args=[submission.pk])).status_code == 404
        for name in ("review:submission-submit", "review:submission-withdraw"):
            response = client.post(reverse(name, args=[submission.pk]), {"version": 1, "reason": "x"})
            assert response.status_code == 404
    for project in (world.project, world.hidden):
        assert client.get(reverse("review:project-edit", args=[project.slug])).status_code == 404
    assert snapshot() == before


# --- Custom admin URLs ------------------------------------------------------------------------

OK, REFUSED, FORBIDDEN, EXPORT, NO_EXPORT = "ok", "refused", "403", "export", "no export"


def everyone(expectation, **exceptions):
    """The same expectation for every member of staff, but `exceptions`."""
    return {who: exceptions.get(who, expectation) for who in STAFF}


def act(action, submission, **data):
    return {
        "name": "admin:review_submission_transition",
        "method": "post",
        "args": lambda w: [getattr(w, submission).pk, action],
        "data": lambda w: {"version": 1, **data},
    }


def selected(attribute, action):
    return lambda w: {"action": action, "_selected_action": [getattr(w, attribute).pk], "index": 0}


def project_form(w):
    """The project admin's form as an editor would send it back, with a new name."""
    project = w.project
    return {
        "name": "Renamed by the admin",
        "name_en": "",
        "tagline": project.tagline,
        "description": project.description,
        "track": project.track_id,
        "organization": project.organization,
        "website": "",
        "hq_city": "",
        "hq_country": "CN",
        "status": "active",
        "owner": project.owner_id,
        "listed_by": project.listed_by,
        "contact_email": "",
        "models_used": "",
        "_save": "Save",
    }


def upload(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "file": SimpleUploadedFile("more.csv", csv_file([("Uploaded one", "agents")]), "text/csv"),
        "encoding": "auto",
    }


STAFF_PAGE = everyone(200, intern=FORBIDDEN)
EDITORS_ONLY_PAGE = everyone(FORBIDDEN, editor=200, conflicted_editor=200)
EDITORS_ONLY_POST = everyone(FORBIDDEN, editor=OK, conflicted_editor=OK)
# A decision on the submission: the assigned reviewers and editors without a conflict.
DECIDERS = everyone(REFUSED, intern=FORBIDDEN, assigned=OK, editor=OK)
# Editors without a conflict only: publishing, assigning, taking a project down or back.
EDITOR_WITHOUT_CONFLICT = everyone(REFUSED, intern=FORBIDDEN, editor=OK)

ADMIN_URLS = {
    "the review page of a submission": {
        "name": "admin:review_submission_change",
        "args": lambda w: [w.in_review.pk],
        "expect": STAFF_PAGE,
    },
    "start review": {
        **act("start_review", "submitted"),
        "expect": everyone(OK, intern=FORBIDDEN, conflicted=REFUSED, conflicted_editor=REFUSED),
    },
    "request changes": {**act("request_changes", "in_review", text="Add a website."), "expect": DECIDERS},
    "approve": {**act("approve", "in_review"), "expect": DECIDERS},
    "reject": {**act("reject", "in_review", text="Not AI."), "expect": DECIDERS},
    "publish": {**act("publish", "approved"), "expect": EDITOR_WITHOUT_CONFLICT},
    "review": {
        "name": "admin:review_submission_review",
        "method": "post",
        "args": lambda w: [w.in_review.pk],
        "data": lambda w: {
            "version": 1,
            "authenticity": 5,
            "innovation": 5,
            "completeness": 5,
            "recommendation": "approve",
            "comment": "Fine.",
            "internal_note": "Fine indeed.",
        },
        # Only an assigned reviewer without a conflict reviews; editors decide.
        "expect": everyone(REFUSED, intern=FORBIDDEN, assigned=OK),
    },
    "assign": {
        "name": "admin:review_submission_assign",
        "method": "post",
        "args": lambda w: [w.submitted.pk],
        "data": lambda w: {"version": 1, "reviewer": w.people["reviewer"].pk},
        "expect": EDITOR_WITHOUT_CONFLICT,
    },
    "declare a conflict for the assigned reviewer": {
        "name": "admin:review_submission_conflict",
        "method": "post",
        "args": lambda w: [w.submitted.pk],
        "data": lambda w: {"subject": "submission", "kind": "personal", "reviewer": w.people["assigned"].pk},
        # Reviewers declare their own; editors (conflicted or not) declare for anyone.
        "expect": everyone(REFUSED, intern=FORBIDDEN, assigned=OK, editor=OK, conflicted_editor=OK),
    },
    "start the review of selected submissions": {
        "name": "admin:review_submission_changelist",
        "method": "post",
        "data": selected("submitted", "start_review_of_selected"),
        "expect": everyone(OK, intern=FORBIDDEN, conflicted=REFUSED, conflicted_editor=REFUSED),
    },
    "publish selected submissions": {
        "name": "admin:review_submission_changelist",
        "method": "post",
        "data": selected("approved", "publish_selected"),
        "expect": EDITOR_WITHOUT_CONFLICT,
    },
    "export selected submissions": {
        "name": "admin:review_submission_changelist",
        "method": "post",
        "data": selected("submitted", "export_csv"),
        "expect": everyone(NO_EXPORT, intern=FORBIDDEN, editor=EXPORT, conflicted_editor=EXPORT),
    },
    "unpublish": {
        "name": "admin:registry_project_unpublish",
        "method": "post",
        "args": lambda w: [w.project.pk],
        "data": lambda w: {"reason": "Closed down."},
        "expect": EDITOR_WITHOUT_CONFLICT,
    },
    "republish": {
        "name": "admin:registry_project_republish",
        "method": "post",
        "args": lambda w: [w.hidden.pk],
        "data": lambda w: {"reason": "Open again."},
        "expect": EDITOR_WITHOUT_CONFLICT,
    },
    "the project list": {"name": "admin:registry_project_changelist", "expect": STAFF_PAGE},
    "feature selected projects": {
        "name": "admin:registry_project_changelist",
        "method": "post",
        "data": selected("project", "feature"),
        # Editors only, and not on a project they own or declared a conflict with.
        "expect": everyone(REFUSED, intern=FORBIDDEN, editor=OK),
    },
    "export selected projects": {
        "name": "admin:registry_project_changelist",
        "method": "post",
        "data": selected("project", "export_xlsx"),
        "expect": everyone(NO_EXPORT, intern=FORBIDDEN, editor=EXPORT, conflicted_editor=EXPORT),
    },
    "a project's admin page": {
        "name": "admin:registry_project_change",
        "args": lambda w: [w.project.pk],
        "expect": STAFF_PAGE,
    },
    "save a project's admin form": {
        "name": "admin:registry_project_change",
        "method": "post",
        "args": lambda w: [w.project.pk],
        "data": project_form,
        "expect": everyone(FORBIDDEN, editor=OK),
    },
    "the upload of a list": {"name": "admin:review_listimport_add", "expect": EDITORS_ONLY_PAGE},
    "upload a list": {
        "name": "admin:review_listimport_add",
        "method": "post",
        "data": upload,
        "expect": EDITORS_ONLY_POST,
    },
    "the list of imports": {"name": "admin:review_listimport_changelist", "expect": EDITORS_ONLY_PAGE},
    "the preview of an import": {
        "name": "admin:review_listimport_change",
        "args": lambda w: [w.batch.pk],
        "expect": EDITORS_ONLY_PAGE,
    },
    "confirm an import": {
        "name": "admin:review_listimport_confirm",
        "method": "post",
        "args": lambda w: [w.batch.pk],
        "data": lambda w: {"mode": "valid"},
        "expect": EDITORS_ONLY_POST,
    },
    "discard an import": {
        "name": "admin:review_listimport_discard",
        "method": "post",
        "args": lambda w: [w.batch.pk],
        "expect": EDITORS_ONLY_POST,
    },
    "mark a project verified": {
        "name": "admin:registry_project_verify",
        "method": "post",
        "args": lambda w: [w.project.pk],
        "data": lambda w: {"note": "Checked the website."},
        "expect": EDITOR_WITHOUT_CONFLICT,
    },
    "the maybe-gone queue": {"name": "admin:review_concern_changelist", "expect": EDITORS_ONLY_PAGE},
    "a report in the queue": {
        "name": "admin:review_concern_change",
        "args": lambda w: [w.concern.pk],
        "expect": EDITORS_ONLY_PAGE,
    },
    "close a maybe-gone listing": {
        "name": "admin:review_concern_close",
        "method": "post",
        "args": lambda w: [w.concern.pk],
        "data": lambda w: {"status": "closed", "since": "2025-01-31", "evidence": "https://news.example/"},
        # Editors only, and not on a project they own or declared a conflict with.
        "expect": everyone(FORBIDDEN, editor=OK, conflicted_editor=REFUSED),
    },
    "resolve a report": {
        "name": "admin:review_concern_resolve",
        "method": "post",
        "args": lambda w: [w.concern.pk],
        "data": lambda w: {"state": "fixed", "note": "Corrected."},
        "expect": everyone(FORBIDDEN, editor=OK, conflicted_editor=REFUSED),
    },
}
CUSTOM_ADMIN_MODULES = {"review.admin", "review.project_admin", "review.import_admin", "review.concern_admin"}


def custom_admin_url_names():
    return sorted(
        {
            name
            for route, name, callback in walk()
            if name and name.startswith("admin:") and callback_module(callback) in CUSTOM_ADMIN_MODULES
        }
    )


def test_every_custom_admin_url_is_in_the_matrix():
    names = custom_admin_url_names()
    assert len(names) >= 12
    covered = {spec["name"] for spec in ADMIN_URLS.values()}
    missing = [name for name in names if name not in covered]
    assert not missing, f"custom admin URLs without a row in the ownership matrix: {missing}"


def check_admin_case(case, expectation, response, before, after):
    status, changed = response.status_code, changes(before, after)
    if expectation == "login":
        assert status == 302 and response.url.startswith(reverse("admin:login")), case
    elif expectation == FORBIDDEN:
        assert status == 403, case
    elif expectation == 200:
        assert status == 200, case
    elif expectation == OK:
        assert status in (200, 302), case
        assert changed, f"{case}: the control changed nothing"
        return
    elif expectation in (EXPORT, NO_EXPORT):
        attachment = "attachment" in response.get("Content-Disposition", "")
        assert status in (200, 302) and attachment == (expectation == EXPORT), case
    elif expectation == REFUSED:
        # Back to the page with the reason; or, for a bulk action the person is not offered,
        # the list again.
        assert status in (200, 302), case
        if status == 302:
            assert not response.url.startswith(reverse("admin:login")), case
            assert message_levels(response) & {"error", "warning"}, f"{case}: refused without a word"
    else:  # pragma: no cover
        raise AssertionError(expectation)
    assert not changed, f"{case} changed {changed}"


@pytest.mark.parametrize("key", sorted(ADMIN_URLS))
def test_custom_admin_urls_follow_the_roles(world, key):
    spec = ADMIN_URLS[key]
    method = spec.get("method", "get")
    url = reverse(spec["name"], args=spec.get("args", lambda w: [])(world))
    for who in PEOPLE:
        expectation = "login" if who in NOT_STAFF else spec["expect"][who]
        with rolled_back():
            before = snapshot()
            data = spec["data"](world) if "data" in spec else {}
            response = getattr(client_for(world, who), method)(url, data)
            after = snapshot()
        check_admin_case(f"{key}: {method.upper()} {url} as {who}", expectation, response, before, after)


def matrix_size():
    founder = len(FOUNDER_URLS) * len(PEOPLE) * 2  # GET and POST each
    admin = len(ADMIN_URLS) * len(PEOPLE)
    return founder, admin


def test_the_matrix_size():
    founder, admin = matrix_size()
    print(
        f"\nownership matrix: {founder} founder URL x person x method cases, {admin} admin URL x person cases"
    )
    assert founder >= 8 * 9 * 2 and admin >= 20 * 9
