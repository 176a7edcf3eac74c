"""manage.py seed_demo: the demo map as a whole (accounts, logos, projects, submissions) and
what it prints. The projects themselves: tests/registry/test_demo.py."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import override_settings
from PIL import Image

from registry import demo
from registry.models import Project, Track
from review.models import Submission
from tests.base import ensure_tracks
from tests.registry.test_demo import PINNED_ANCHOR, PINNED_FINGERPRINT, demo_projects, fingerprint

pytestmark = pytest.mark.django_db

Through = Project.secondary_tracks.through
DEMO_PASSWORDS = [account.password for account in demo.DEMO_ACCOUNTS]


def seed(projects=None, *args):
    """Run the command; returns what it printed."""
    out = StringIO()
    if projects is not None:
        args = ["--projects", str(projects), *args]
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def tracks():
    ensure_tracks()  # a transactional test elsewhere may have flushed the migration's rows


def counts():
    User = get_user_model()
    return {
        "projects": Project.objects.count(),
        "secondary": Through.objects.count(),
        "users": User.objects.count(),
        "groups": Group.objects.count(),
        "memberships": User.groups.through.objects.count(),
        "submissions": Submission.objects.count(),
    }


def test_the_default_makes_at_least_300_public_projects_and_says_so():
    output = seed()

    assert demo_projects(demo.DEFAULT_PROJECTS).count() == demo.DEFAULT_PROJECTS >= 300
    public = Project.objects.published().count()
    assert public >= 300
    assert f"Projects: {demo.DEFAULT_PROJECTS} created, 0 already there (" in output
    assert f"{public} public now." in output
    assert re.search(r"^Logos: \d+ created, \d+ already there \(logos/demo/\)\.$", output, re.M)
    assert "Submissions: 8 created, 0 already there" in output
    assert output.rstrip().endswith("Demo data ready.")


def test_the_command_makes_the_pinned_data(monkeypatch):
    monkeypatch.setattr(demo, "demo_anchor", lambda: PINNED_ANCHOR)

    seed(300)

    assert fingerprint() == PINNED_FINGERPRINT, fingerprint()


def test_running_twice_adds_nothing():
    seed(60)
    before = counts()

    output = seed(60)

    assert counts() == before
    assert "Projects: 0 created, 60 already there" in output
    assert "Logos: 0 created, 48 already there" in output
    assert "Submissions: 0 created, 8 already there" in output


def test_verbosity_2_prints_the_seconds_of_each_phase():
    output = seed(10, "--verbosity", "2")

    assert "Seconds per phase:" in output
    for phase in ("logos", "accounts", "existing slugs", "submissions"):
        assert f"  {phase} " in output
    assert "Seconds per phase:" not in seed(10)


@override_settings(DEBUG=True)
def test_demo_passwords_are_set_and_printed_with_debug_on():
    output = seed(10)

    for account in demo.DEMO_ACCOUNTS:
        assert account.password in output
        assert get_user_model().objects.get(username=account.username).check_password(account.password)
    assert "/admin/" in output


@override_settings(DEBUG=False)
def test_no_password_is_set_or_printed_with_debug_off():
    output = seed(10)

    for password in DEMO_PASSWORDS:
        assert password not in output
    for account in demo.DEMO_ACCOUNTS:
        assert not get_user_model().objects.get(username=account.username).has_usable_password()
        assert f"manage.py changepassword {account.username}" in output


def test_passwords_made_with_debug_on_are_not_printed_later_with_debug_off():
    with override_settings(DEBUG=True):
        seed(10)
    with override_settings(DEBUG=False):
        output = seed(10)

    for password in DEMO_PASSWORDS:
        assert password not in output


def test_accounts_groups_and_owners():
    seed(120)
    User = get_user_model()

    reviewer, editor, admin, founder = (
        User.objects.get(username=name) for name in ("reviewer", "editor", "admin", "founder")
    )
    assert reviewer.is_staff and list(reviewer.groups.values_list("name", flat=True)) == ["Reviewers"]
    assert editor.is_staff and list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert admin.is_superuser and admin.is_staff
    assert not founder.is_staff and founder.email == "founder@example.com"
    assert founder.projects.exists()
    assert Project.objects.exclude(owner__in=[founder, None]).exists()  # extra founders
    imported = Project.objects.filter(listed_by=Project.ListedBy.EDITORS)
    assert imported.exists() and not imported.exclude(owner=None).exists()
    assert not Project.objects.filter(listed_by=Project.ListedBy.FOUNDER, owner=None).exists()


def test_an_existing_account_is_left_alone():
    admin = get_user_model().objects.create_user("admin", password="my own password")

    with override_settings(DEBUG=True):
        seed(5)

    admin.refresh_from_db()
    assert not admin.is_superuser
    assert admin.check_password("my own password")


def test_logos_come_from_a_pool_of_png_files():
    seed(120)

    names = set(Project.objects.exclude(logo="").values_list("logo", flat=True))
    assert names <= {demo.logo_name(index) for index in range(len(demo.PREFIXES))}
    assert Project.objects.filter(logo="").exists()
    for index in range(len(demo.PREFIXES)):
        with default_storage.open(demo.logo_name(index)) as file, Image.open(file) as image:
            assert (image.format, image.size) == ("PNG", (128, 128))
    assert len({demo.draw_logo(index) for index in range(len(demo.PREFIXES))}) == len(demo.PREFIXES)


def test_a_negative_number_is_refused():
    with pytest.raises(CommandError):
        seed(-1)
    assert not Project.objects.exists()


def test_missing_tracks_are_refused_with_their_names():
    Track.objects.filter(slug="video").delete()

    with pytest.raises(CommandError, match=r"^Missing tracks video: run manage\.py migrate first\.$"):
        seed(5)


def test_the_demo_has_a_submission_in_every_workflow_state_made_through_the_workflow():
    seed(20)
    states = set(Submission.objects.values_list("state", flat=True))
    assert states == set(Submission.State.values)
    published = Submission.objects.get(state=Submission.State.PUBLISHED)
    assert published.project.is_public and published.project.verified
    assert Submission.objects.get(state="rejected").events.filter(action="reject").exists()
    before = Submission.objects.count()
    seed(20)
    assert Submission.objects.count() == before
