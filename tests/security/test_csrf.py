"""CSRF: every URL of the site refuses a state-changing request without a token.

The URLs are read from the URLconf (tests.security.helpers.walk), so a view added later is
checked too: the founder's forms and buttons, the review admin's buttons and bulk actions,
unpublish/republish, the import's upload, confirm and discard, the admin's own add,
change, delete and changelist actions, logout, login, sign-up, password reset and change,
the language forms. Each is posted (and our own views put, patched, deleted) by a logged-in editor who
could do anything with a token, through Client(enforce_csrf_checks=True) and without one:
403, nothing changed, still logged in. A few controls post the same with a token and see
it go through, which shows the refusals are the token's doing.
"""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from review.models import Conflict, ListImport, Submission
from tests.base import make_project, make_submission, make_user, track
from tests.review.import_files import csv_file
from tests.security.helpers import callback_module, changes, snapshot, url_from_route, walk

pytestmark = pytest.mark.django_db
State = Submission.State
UNSAFE = ("post", "put", "patch", "delete")


@pytest.fixture
def world(db):
    editor = make_user("chief", is_staff=True, is_superuser=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    EmailAddress.objects.create(user=editor, email=editor.email, verified=True, primary=True)
    draft = make_submission(editor, name="Chief's draft")
    submitted = make_submission(editor, state=State.SUBMITTED, name="Chief's submitted")
    project = make_project(owner=editor, name="Chief's project")
    conflict = Conflict.objects.create(reviewer=editor, kind="other", organization="Somewhere")
    batch = ListImport.objects.create(
        file_name="list.csv", data=csv_file([("One", "agents")]), created_by=editor
    )
    return {
        "editor": editor,
        "draft": draft,
        "submitted": submitted,
        "project": project,
        "conflict": conflict,
        "batch": batch,
    }


# Which object a route's id or slug names, by the start of the route.
OBJECTS = [
    ("my/submissions/", "draft"),
    ("admin/review/submission/", "submitted"),
    ("admin/review/conflict/", "conflict"),
    ("admin/review/listimport/", "batch"),
    ("admin/registry/project/", "project"),
    ("projects/", "project"),
    ("api/projects/", "project"),
]


def parameters(route, world):
    """A value for every parameter a route may have."""
    owner = next((name for prefix, name in OBJECTS if route.startswith(prefix)), None)
    thing = world[owner] if owner else None
    pk = thing.pk if thing is not None else 1
    if route.startswith("admin/auth/user/"):
        pk = world["editor"].pk
    elif route.startswith("admin/auth/group/"):
        pk = Group.objects.get(name="Editors").pk
    elif route.startswith("admin/registry/track/"):
        pk = track().pk
    elif route.startswith("admin/account/emailaddress/"):
        pk = EmailAddress.objects.get().pk
    return {
        "pk": pk,
        "object_id": pk,
        "id": pk,
        "slug": thing.slug if thing is not None and hasattr(thing, "slug") else track().slug,
        "action": "start_review",
        "code": "en",
        "key": "MQ:1t2x3y:abc",
        "uidb36": "1",
        "content_type_id": "1",
        "app_label": "review",
        "url": "nowhere/",
        "token": "not-a-signed-token",
    }


OWN_MODULES = ("registry.", "review.", "aimap.")


def every_url(world):
    """{path: whether the view is ours} for every route of the URLconf, with real ids and
    slugs (the admin's app index once per app label)."""
    urls = {}
    for route, _name, callback in walk():
        ours = callback_module(callback).startswith(OWN_MODULES)
        url = url_from_route(route, parameters(route, world))
        urls[url] = urls.get(url, False) or ours
    return urls


def anything(world):
    """Form data that would do something at most URLs, given a token."""
    return {
        "version": 1,
        "reason": "Because",
        "text": "Because",
        "name": "Changed without a token",
        "tagline": "t",
        "description": "d",
        "track": track().pk,
        "hq_country": "CN",
        "status": "active",
        "claim_evidence": "mine",
        "action": "submit",
        "mode": "valid",
        "post": "yes",
        "_selected_action": [world["submitted"].pk],
        "index": 0,
        "email": "somebody@example.com",
        "login": world["editor"].email,
        "password": "correct horse battery",
        "password1": "a much longer new password 42",
        "password2": "a much longer new password 42",
        "oldpassword": "correct horse battery",
        "old_password": "correct horse battery",
        "new_password1": "a much longer new password 42",
        "new_password2": "a much longer new password 42",
        "language": "en",
        "next": "/",
    }


def logged_in(client):
    return "_auth_user_id" in client.session


def test_every_url_refuses_unsafe_methods_without_a_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["editor"])
    urls = every_url(world)
    assert len(urls) >= 100, urls
    data = anything(world)
    checked = 0
    for url, ours in sorted(urls.items()):
        before = snapshot()
        # POST everywhere; the other unsafe methods (the same check) at our own views.
        for method in UNSAFE if ours else ("post",):
            response = getattr(client, method)(url, data)
            case = f"{method.upper()} {url}"
            assert response.status_code == 403, f"{case}: {response.status_code}"
            assert logged_in(client), f"{case} logged the editor out"
            checked += 1
        after = snapshot()
        assert not changes(before, after), f"{url} changed {changes(before, after)}"
    print(f"\nCSRF: {len(urls)} URLs, {checked} unsafe requests refused without a token")


ACCOUNT_URLS = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_logout",
    "set_language",
]


@pytest.mark.parametrize("name", ACCOUNT_URLS)
def test_visitors_cannot_be_made_to_log_in_sign_up_or_reset_without_a_token(world, name):
    """Login CSRF: a page elsewhere must not log a visitor in as the attacker."""
    client = Client(enforce_csrf_checks=True)
    before = snapshot()
    response = client.post(reverse(name), anything(world))
    assert response.status_code == 403
    assert not changes(before, snapshot())
    assert not logged_in(client)


# --- Controls: the same requests with a token go through ----------------------------------


def with_token(client, page):
    """The CSRF token a form on `page` would carry."""
    client.get(page)
    return client.cookies["csrftoken"].value


def test_with_a_token_the_founders_buttons_work(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["editor"])
    token = with_token(client, reverse("review:submission-new"))
    draft, submitted = world["draft"], world["submitted"]
    client.post(
        reverse("review:submission-submit", args=[draft.pk]), {"version": 1, "csrfmiddlewaretoken": token}
    )
    client.post(
        reverse("review:submission-withdraw", args=[submitted.pk]),
        {"version": 1, "reason": "No longer", "csrfmiddlewaretoken": token},
    )
    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert (draft.state, submitted.state) == (State.SUBMITTED, State.WITHDRAWN)


def test_with_a_token_the_admin_buttons_work(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["editor"])
    token = with_token(client, reverse("admin:index"))
    project = world["project"]
    response = client.post(
        reverse("admin:registry_project_unpublish", args=[project.pk]),
        {"reason": "Closed", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("admin:review_listimport_discard", args=[world["batch"].pk]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    world["batch"].refresh_from_db()
    # The editor owns the project: the workflow refuses, but the token let the request in.
    assert project.events.count() == 0 and world["batch"].state == ListImport.State.DISCARDED


def test_with_a_token_logout_and_login_work(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["editor"])
    token = with_token(client, reverse("review:dashboard"))
    client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})
    assert not logged_in(client)
    token = with_token(client, reverse("account_login"))
    response = client.post(
        reverse("account_login"),
        {"login": world["editor"].email, "password": "correct horse battery", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and logged_in(client)
