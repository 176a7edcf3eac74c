"""manage.py seed_demo: a deterministic, idempotent, clearly fictional demo map."""

import hashlib
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from registry import counts as public_counts
from registry import demo, search
from registry.listing import (
    MAX_SECONDARY_TRACKS,
    BusinessModel,
    CustomerType,
    FoundationModel,
    FundingStage,
    Modality,
    Seeking,
    Stage,
    Status,
    TargetMarket,
    TeamSize,
    listing_field_names,
    secondary_track_errors,
)
from registry.models import Project, PublicCountState, Track
from registry.stats import count_afresh
from tests.base import ensure_tracks

pytestmark = pytest.mark.django_db

Through = Project.secondary_tracks.through
DEMO_PASSWORDS = [account.password for account in demo.DEMO_ACCOUNTS]
SINGLE_CHOICE_FIELDS = {
    "stage": Stage,
    "funding_stage": FundingStage,
    "team_size": TeamSize,
    "target_market": TargetMarket,
    "status": Status,
}
MULTI_CHOICE_FIELDS = {
    "business_models": BusinessModel,
    "customer_types": CustomerType,
    "foundation_models": FoundationModel,
    "modalities": Modality,
    "seeking": Seeking,
}


def demo_projects(count):
    """The generated projects (the demo's published submission adds one more of its own)."""
    return Project.objects.filter(slug__in=demo.demo_slugs(count))


def seed(projects=None):
    """Run the command; returns what it printed."""
    out = StringIO()
    args = [] if projects is None else ["--projects", str(projects)]
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def tracks():
    ensure_tracks()  # a transactional test elsewhere may have flushed the migration's rows


@pytest.fixture
def fixed_anchor(monkeypatch):
    """One anchor for the whole test, even if it runs across midnight UTC."""
    anchor = demo.demo_anchor()
    monkeypatch.setattr(demo, "demo_anchor", lambda: anchor)
    return anchor


def snapshot():
    """Everything the generator decides, project by project (ids and timestamps of the
    insert itself aside)."""
    own_fields = [name for name in listing_field_names() if name not in ("track", "secondary_tracks")]
    state_fields = ["listed_by", "published", "published_at", "first_published_at", "featured", "verified"]
    rows = (
        Project.objects.filter(submissions__isnull=True)
        .order_by("slug")
        .values_list(*own_fields, *state_fields, "verified_at", "track__slug", "owner__username")
    )
    secondary = {}
    for project_slug, track_slug in Through.objects.values_list("project__slug", "track__slug"):
        secondary.setdefault(project_slug, []).append(track_slug)
    return [(*row, sorted(secondary.get(row[own_fields.index("slug")], []))) for row in rows]


def counts():
    User = get_user_model()
    return {
        "projects": Project.objects.count(),
        "secondary": Through.objects.count(),
        "users": User.objects.count(),
        "groups": Group.objects.count(),
        "memberships": User.groups.through.objects.count(),
    }


def test_the_default_makes_at_least_300_public_projects_across_all_tracks():
    output = seed()

    assert demo_projects(demo.DEFAULT_PROJECTS).count() == demo.DEFAULT_PROJECTS >= 300
    public = Project.objects.published()
    assert public.count() >= 300
    assert set(public.values_list("track__slug", flat=True)) == set(
        Track.objects.values_list("slug", flat=True)
    )
    assert Track.objects.count() == 15
    assert f"{demo.DEFAULT_PROJECTS} created, 0 already there" in output


def test_every_choice_of_every_choice_field_appears_among_public_projects():
    seed()
    public = Project.objects.published()

    for name, choices in SINGLE_CHOICE_FIELDS.items():
        assert set(public.values_list(name, flat=True)) >= set(choices.values), name
    for name, choices in MULTI_CHOICE_FIELDS.items():
        seen = {code for codes in public.values_list(name, flat=True) for code in codes}
        assert seen == set(choices.values), name
    countries = set(public.values_list("hq_country", flat=True))
    assert {"CN", "US", "SG", "GB", "JP", "DE", "HK"} <= countries
    years = set(public.exclude(founded_year=None).values_list("founded_year", flat=True))
    assert min(years) >= 1990
    assert max(years) <= timezone.now().year


def test_secondary_tracks_are_never_the_primary_and_at_most_two():
    seed(120)

    per_project = {}
    for project_id, track_id, primary_id in Through.objects.values_list(
        "project_id", "track_id", "project__track_id"
    ):
        assert track_id != primary_id
        per_project[project_id] = per_project.get(project_id, 0) + 1
    assert max(per_project.values()) == MAX_SECONDARY_TRACKS
    assert 0 < len(per_project) < Project.objects.count()  # some have none


def test_running_twice_adds_nothing():
    seed(60)
    before = counts()

    output = seed(60)

    assert counts() == before
    assert "0 created, 60 already there" in output
    assert "Logos: 0 created, 48 already there" in output


def test_the_same_number_gives_the_same_projects(fixed_anchor):
    seed(80)
    first = snapshot()
    Project.objects.filter(slug__in=demo.demo_slugs(80)).delete()
    assert not demo_projects(80).exists()

    seed(80)

    assert snapshot() == first
    assert len(first) == 80
    assert len({row[0] for row in first}) > 70  # names vary


def test_names_and_slugs_are_pinned():
    """The naming walk; if you change the pools on purpose, update these."""
    assert demo.names(1) == (0, "云雀智能", "Lark Intelligence")
    assert demo.demo_slug(1) == "lark-intelligence-0001"
    assert demo.demo_slug(2) == "starmap-tech-0002"
    assert demo.demo_slug(49) == "lark-vision-0049"  # a lap later, another suffix
    assert demo.demo_slug(100000) == f"{demo.slug_base(demo.names(100000)[2])}-100000"
    assert len({demo.names(number)[1:] for number in range(1, 481)}) == 480


def test_a_smaller_run_then_the_default_adds_only_the_rest(fixed_anchor):
    seed(50)
    assert demo_projects(demo.DEFAULT_PROJECTS).count() == 50

    output = seed()

    assert f"{demo.DEFAULT_PROJECTS - 50} created, 50 already there" in output
    grown = snapshot()
    Project.objects.all().delete()
    seed()
    assert snapshot() == grown  # the same as seeding the default at once


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


def test_scheduled_and_unpublished_projects_are_not_public():
    seed(120)
    now = timezone.now()

    scheduled = Project.objects.filter(published=True, published_at__gt=now)
    unpublished = Project.objects.filter(published=False)
    assert scheduled.exists() and unpublished.exists()
    public_ids = set(Project.objects.published().values_list("pk", flat=True))
    assert public_ids.isdisjoint(scheduled.values_list("pk", flat=True))
    assert public_ids.isdisjoint(unpublished.values_list("pk", flat=True))
    assert len(public_ids) == Project.objects.count() - scheduled.count() - unpublished.count()
    # Other states the demo should show.
    assert Project.objects.published().filter(featured=True).exists()
    assert Project.objects.exclude(status=Status.ACTIVE).exists()
    assert not Project.objects.filter(verified=True, verified_at=None).exists()
    assert not Project.objects.filter(featured=True).exclude(pk__in=public_ids).exists()


def test_projects_are_clearly_fictional_and_valid():
    seed(120)

    for project in Project.objects.all():
        assert project.organization.endswith("(Demo)")
        assert project.website in ("", f"https://{project.slug}.example/")
        assert project.contact_email in ("", f"{project.slug}@example.com")
        assert len(project.paragraphs) == 2
        assert project.business_models == ["undecided"] or "undecided" not in project.business_models
    for project in Project.objects.select_related("track"):
        project.full_clean()  # the schema's validators, the logo's and the founded year's included
        assert secondary_track_errors(project.track, list(project.secondary_tracks.all())) == []


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


def test_the_demo_has_a_submission_in_every_workflow_state_made_through_the_workflow():
    from review.models import Submission

    seed(20)
    states = set(Submission.objects.values_list("state", flat=True))
    assert states == set(Submission.State.values)
    published = Submission.objects.get(state=Submission.State.PUBLISHED)
    assert published.project.is_public and published.project.verified
    assert Submission.objects.get(state="rejected").events.filter(action="reject").exists()
    before = Submission.objects.count()
    seed(20)
    assert Submission.objects.count() == before


# The fingerprint of `seed_demo --projects 300` with the anchor below: every generated
# value, the search tokens, the secondary tracks and the insertion order. A faster
# seed must not change it; change it only when the demo data is changed on purpose.
PINNED_ANCHOR = datetime(2026, 11, 29, tzinfo=UTC)
PINNED_FINGERPRINT = "1b538e0ae17984c0e9d50a3b4614e913c31f8f8c13954f9acafb65b1e7dc6fa5"


def fingerprint():
    own_fields = [name for name in listing_field_names() if name not in ("track", "secondary_tracks")]
    state_fields = ["listed_by", "published", "published_at", "first_published_at", "featured", "verified"]
    rows = (
        Project.objects.filter(submissions__isnull=True)
        .order_by("pk")
        .values_list(
            *own_fields, *state_fields, "verified_at", "track__slug", "owner__username", "search_tokens"
        )
    )
    links = (
        Through.objects.filter(project__submissions__isnull=True)
        .order_by("pk")
        .values_list("project__slug", "track__slug")
    )
    digest = hashlib.sha256()
    for row in [*rows, *links]:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_the_generated_data_is_pinned(monkeypatch):
    monkeypatch.setattr(demo, "demo_anchor", lambda: PINNED_ANCHOR)

    seed(300)

    assert fingerprint() == PINNED_FINGERPRINT, fingerprint()


def test_a_large_batch_gives_the_same_data_as_small_ones(monkeypatch):
    monkeypatch.setattr(demo, "demo_anchor", lambda: PINNED_ANCHOR)
    monkeypatch.setattr(demo, "BATCH_SIZE", 7)

    seed(300)

    assert fingerprint() == PINNED_FINGERPRINT, fingerprint()


def test_copy_rows_hold_what_saving_the_projects_would_write():
    """PostgreSQL's COPY path builds plain rows instead of Project instances: the same values."""
    anchor = PINNED_ANCHOR
    tracks = dict(Track.objects.values_list("slug", "pk"))
    owners = {name: index for index, name in enumerate(["founder", *demo.EXTRA_FOUNDERS], start=1)}
    now = timezone.now()
    maker = demo.CopyRows(tracks, owners, now)
    fields = Project._meta.concrete_fields
    for number in [*range(1, 400), 99_999, 100_000]:
        draft = demo.build_project(number, anchor)
        values = dict(draft.fields)
        project = Project(
            pk=number, track_id=tracks[values.pop("track_slug")], owner_id=owners.get(draft.owner), **values
        )
        expected = [field.get_prep_value(field.pre_save(project, True)) for field in fields]
        row = maker.row(number, draft)
        for field, value, wanted in zip(fields, row, expected, strict=True):
            if field.attname in ("created_at", "updated_at"):
                assert value == now
            else:
                assert (value, type(value)) == (wanted, type(wanted)), (number, field.name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the large-load path is PostgreSQL's")
# Under pytest-xdist the worker has threads of its own when the row builders are forked
# (manage.py seed_demo has none); the children only compute and touch no lock.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_large_load_rebuilds_the_search_index_and_the_counts(monkeypatch):
    """Over LARGE_LOAD new projects, the search index is dropped and the counts are not kept
    during the load; both are made again at the end (on two connections at once)."""
    ensure_tracks()
    public_counts.rebuild()
    monkeypatch.setattr(demo, "demo_anchor", lambda: PINNED_ANCHOR)
    monkeypatch.setattr(demo, "LARGE_LOAD", 100)
    kept_during_load = []
    copy_projects = demo.copy_projects

    def spy(*args, **kwargs):
        kept_during_load.append(PublicCountState.objects.exists())
        return copy_projects(*args, **kwargs)

    monkeypatch.setattr(demo, "copy_projects", spy)

    output = seed(300)

    assert "300 created" in output
    assert kept_during_load == [False]
    assert fingerprint() == PINNED_FINGERPRINT
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [search.INDEX_NAME])
        assert cursor.fetchone()
    kept = public_counts.read()
    fresh = count_afresh(Project.objects.published())
    assert kept.total() == fresh.total() == Project.objects.published().count() > 250
    assert {d: dict(v) for d, v in kept.dimensions.items()} == {
        d: dict(v) for d, v in fresh.dimensions.items()
    }
    assert "300 already there" in seed(300)  # and a second run adds nothing


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the search index is PostgreSQL's")
def test_a_seed_puts_back_a_search_index_that_a_killed_large_seed_left_out():
    ensure_tracks()
    with connection.cursor() as cursor:
        cursor.execute(search.DROP_INDEX_SQL)

    seed(20)

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [search.INDEX_NAME])
        assert cursor.fetchone()[0] is not None
