"""One door for the audit trail: every change the project admin makes to a listing — each bulk
action, the change form, the add form, the Unpublish / Publish again button — goes through a
review function that writes an Event (actor, action, changed fields); imports and
publications name the fields they changed; a conflicted editor changes nothing and leaves no
Event; and no module but review/audit.py creates Event rows."""

import ast
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from registry.models import Project
from review import listings, workflow
from review.importing import apply_import
from review.models import ACTION_LABELS, Conflict, Event
from review.workflow import TransitionError
from tests.base import make_project, make_user, track
from tests.review.import_files import csv_file
from tests.review.workflow_builders import approved

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
CHANGELIST = "admin:registry_project_changelist"


def member(username, group, **extra):
    user = make_user(username, is_staff=True, **extra)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return member("editor", "Editors")


@pytest.fixture
def reviewer(db):
    return member("reviewer", "Reviewers")


def client_for(user):
    client = Client(headers=EN)
    client.force_login(user)
    return client


def trail():
    """Every Event as (project, actor, action, changed fields, submission), oldest first."""
    return list(
        Event.objects.order_by("pk").values_list("project", "actor", "action", "changed_fields", "submission")
    )


def rows():
    return list(Project.objects.order_by("pk").values())


def form_data(client, url):
    """The admin form on `url` as the browser would send it back untouched."""
    form = client.get(url).context["adminform"].form
    data = {"_save": "Save"}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False) or name == "logo":
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    return data


# --- Every bulk action of the project admin ---------------------------------------------------

# What each action an editor is offered does to the two selected projects (their fields
# before and after) and the Event each one gets; None: it writes nothing and changes no row.
# An action added to ProjectAdmin without a row here fails test_the_table_names_every_action.
ACTIONS = {
    "feature": {"before": {"featured": False}, "after": {"featured": True}, "event": ("feature", ["featured"])},
    "unfeature": {"before": {"featured": True}, "after": {"featured": False}, "event": ("unfeature", ["featured"])},
    "publish_listings": {"before": {"published": False, "listed_by": "editors"}, "after": {"published": True},
                         "event": ("publish_listing", ["published", "published_at", "first_published_at"])},
    "export_csv": {"before": {}, "after": {}, "event": None},
    "export_xlsx": {"before": {}, "after": {}, "event": None},
}  # fmt: skip


def offered_actions(user):
    request = RequestFactory().get(reverse(CHANGELIST))
    request.user = user
    return set(admin.site._registry[Project].get_actions(request))


def test_the_table_names_every_action_the_admin_offers(editor):
    superuser = make_user("root", is_staff=True, is_superuser=True)
    assert offered_actions(editor) == set(ACTIONS)
    assert offered_actions(superuser) == set(ACTIONS)  # deleting is offered to nobody


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_writes_one_event_per_project_or_nothing(editor, name):
    spec = ACTIONS[name]
    projects = [make_project(**spec["before"]) for _ in range(2)]
    before = rows()

    with mock.patch("registry.pagecache.published_changed") as bumped:
        response = client_for(editor).post(
            reverse(CHANGELIST), {"action": name, "_selected_action": [p.pk for p in projects], "index": 0}
        )

    if spec["event"] is None:
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        assert trail() == [] and rows() == before and not bumped.called
        return
    action, changed = spec["event"]
    assert response.status_code == 302
    assert trail() == [(p.pk, editor.pk, action, changed, None) for p in projects]
    assert bumped.called  # the public pages' cache moves on
    for project in projects:
        project.refresh_from_db()
        assert {field: getattr(project, field) for field in spec["after"]} == spec["after"]


def test_featuring_a_featured_project_writes_nothing(editor):
    project = make_project(featured=True)
    listings.feature(project, by=editor)
    assert trail() == []


def test_the_trail_shows_the_action_and_its_changed_fields(editor):
    project = make_project()
    listings.feature(project, by=editor)
    page = (
        client_for(editor).get(reverse("admin:registry_project_change", args=[project.pk])).content.decode()
    )
    assert 'data-action="feature"' in page and ">Set as featured<" in page
    assert '<td class="changed-fields">featured</td>' in page


# --- The change form and the add form -----------------------------------------------------------


def test_saving_the_change_form_writes_an_edit_event_with_the_changed_fields(editor):
    project = make_project(tagline="Before", secondary=["coding"])
    url = reverse("admin:registry_project_change", args=[project.pk])
    client = client_for(editor)
    data = {
        **form_data(client, url),
        "tagline": "After",
        "secondary_tracks": [str(track("education").pk)],
        "modalities": ["text", "image"],
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.tagline == "After" and project.modalities == ["text", "image"]
    assert [t.slug for t in project.secondary_tracks.all()] == ["education"]
    [(event_project, actor, action, changed, submission)] = trail()
    assert (event_project, actor, action, submission) == (project.pk, editor.pk, "edit_listing", None)
    assert sorted(changed) == ["modalities", "secondary_tracks", "tagline"]
    page = client.get(url).content.decode()
    assert 'data-action="edit_listing"' in page and "secondary tracks" in page


def test_saving_the_change_form_unchanged_writes_nothing(editor):
    # Many-of choices are checkboxes in the admin, so a form holding some is sent back as it came.
    project = make_project(secondary=["coding"], business_models=["subscription"], modalities=["text"])
    updated_at = project.updated_at
    url = reverse("admin:registry_project_change", args=[project.pk])
    client = client_for(editor)

    with mock.patch("registry.pagecache.published_changed") as bumped:
        response = client.post(url, form_data(client, url))

    assert response.status_code == 302
    project.refresh_from_db()
    assert trail() == [] and project.updated_at == updated_at and not bumped.called


def test_adding_a_project_by_hand_writes_a_create_event(editor):
    client = client_for(editor)
    url = reverse("admin:registry_project_add")
    data = {
        **form_data(client, url),
        "name": "By hand",
        "tagline": "Added in the admin",
        "description": "Written by an editor.",
        "track": str(track().pk),
        "hq_country": "CN",
        "status": "active",
        "listed_by": "editors",
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    project = Project.objects.get(name="By hand")
    assert not project.published  # it goes on the map with the Publish button, in the trail too
    [(event_project, actor, action, changed, submission)] = trail()
    assert (event_project, actor, action, submission) == (project.pk, editor.pk, "create_listing", None)
    assert {"name", "tagline", "description", "track"} <= set(changed)


# --- The publication buttons ------------------------------------------------------------------


def test_unpublish_and_republish_write_their_events_with_the_changed_fields(editor):
    at = timezone.now() - timedelta(days=1)
    project = make_project(published_at=at, first_published_at=at)
    client = client_for(editor)

    client.post(reverse("admin:registry_project_unpublish", args=[project.pk]), {"reason": "Closed."})
    client.post(reverse("admin:registry_project_republish", args=[project.pk]), {"reason": "Open again."})

    assert trail() == [
        (project.pk, editor.pk, "unpublish", ["published"], None),
        (project.pk, editor.pk, "republish", ["published"], None),
    ]
    assert list(Event.objects.order_by("pk").values_list("note", flat=True)) == ["Closed.", "Open again."]


# --- Denials: nothing written ----------------------------------------------------------------


def test_a_conflicted_editor_features_and_edits_nothing(editor):
    owned = make_project(owner=editor, tagline="Mine")
    declared = make_project(organization="Tied AI")
    Conflict.objects.create(reviewer=editor, kind="employment", organization="tied ai")
    before = rows()
    client = client_for(editor)

    client.post(
        reverse(CHANGELIST), {"action": "feature", "_selected_action": [owned.pk, declared.pk], "index": 0}
    )
    for project in (owned, declared):
        with pytest.raises(TransitionError):
            listings.feature(project, by=editor)
        with pytest.raises(TransitionError):
            project.tagline = "Changed"
            listings.edit(project, by=editor, changed_fields=["tagline"])
    saved = client.post(
        reverse("admin:registry_project_change", args=[owned.pk]), {"name": owned.name, "tagline": "Changed"}
    )

    assert saved.status_code == 403
    assert rows() == before and trail() == []


def test_only_editors_feature_or_edit(reviewer):
    project = make_project()
    with pytest.raises(TransitionError, match="Only an editor"):
        listings.feature(project, by=reviewer)
    with pytest.raises(TransitionError, match="Only an editor"):
        listings.edit(project, by=reviewer, changed_fields=["tagline"])
    with pytest.raises(TransitionError, match="Only an editor"):
        listings.create(Project(name="x", track=track()), by=reviewer, changed_fields=["name"])
    assert trail() == [] and Project.objects.count() == 1


# --- Imports and publications name their changed fields ----------------------------------------


def test_an_import_records_the_fields_each_row_filled_in_or_changed(editor):
    existing = make_project(name="Candle", website="https://candle.example", listed_by="editors")
    data = csv_file(
        [("Candle", "agents", "https://candle.example", "A new tagline"), ("Fresh", "coding", "", "")],
        header=("name", "track", "website", "tagline"),
    )

    apply_import(data, actor=editor, source="list.csv")

    fresh = Project.objects.get(name="Fresh")
    assert sorted(trail()) == sorted(
        [
            (existing.pk, editor.pk, "import_update", ["tagline"], None),
            (fresh.pk, editor.pk, "import", ["name", "track"], None),
        ]
    )


def test_a_publication_names_the_fields_it_wrote_and_is_on_the_projects_trail(founder, editor):
    reviewer = member("reviewer", "Reviewers")
    submission = approved(founder, editor=editor, reviewer=reviewer, name="Published here", tagline="T")

    published = workflow.publish(submission, by=editor)

    event = Event.objects.get(action="publish")
    assert event.submission == published and event.actor == editor
    assert {"name", "tagline", "track", "published", "published_at", "owner"} <= set(event.changed_fields)
    project_page = client_for(editor).get(
        reverse("admin:registry_project_change", args=[published.project.pk])
    )
    assert list(project_page.context["events"]) == [event]  # on the project's trail too
    founders_page = client_for(founder).get(published.get_absolute_url()).content.decode()
    assert "<strong>Published</strong>" in founders_page  # the founder's timeline shows the step...
    assert "changed-fields" not in founders_page  # ...never the fields it changed
    assert ", ".join(event.changed_field_labels) not in founders_page


@pytest.mark.parametrize("action", ["create_listing", "edit_listing", "feature", "unfeature"])
def test_the_new_actions_have_labels_in_both_languages(action):
    with translation.override("en"):
        english = str(ACTION_LABELS[action])
    with translation.override("zh-hans"):
        chinese = str(ACTION_LABELS[action])
    assert english != action and chinese != english


# --- Nobody else writes Events ------------------------------------------------------------------

DOOR = Path("review/audit.py")
WRITERS = {"create", "bulk_create", "get_or_create", "update_or_create"}


def dotted(node):
    """'Event.objects.create' for the function of a call, '' when it is not a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def event_writes(path):
    """The lines of `path` that build or create Event rows."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        parts = name.split(".")
        builds = parts[-1] == "Event"
        creates = parts[-1] in WRITERS and any(part in ("Event", "events") for part in parts[:-1])
        if builds or creates:
            found.append(node.lineno)
    return found


def test_no_module_but_the_door_writes_events():
    root = Path(settings.BASE_DIR)
    sources = [path for app in ("registry", "review", "aimap") for path in sorted((root / app).rglob("*.py"))]
    writers = {str(path.relative_to(root)): lines for path in sources if (lines := event_writes(path))}
    assert len(writers.pop(str(DOOR))) >= 2  # the door itself is found: the scan works
    assert writers == {}, f"Events created outside {DOOR}: {writers}"
