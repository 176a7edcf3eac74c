"""registry.demo's projects and registry.bulkload: deterministic, clearly fictional, and the
same rows whichever way they are inserted. (The command as a whole: tests/aimap/test_seed_demo.py.)"""

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from registry import bulkload, demo, search
from registry import counts as public_counts
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
# Links to other listings by slug (their ids are the insert's): the lineage the demo made.
OWN_FIELDS = [
    f"{name}__slug" if name in ("acquirer", "successor") else name
    for name in listing_field_names()
    if name not in ("track", "secondary_tracks")
]
STATE_FIELDS = ["listed_by", "published", "published_at", "first_published_at", "featured", "verified"]


@pytest.fixture(autouse=True)
def tracks():
    ensure_tracks()  # a transactional test elsewhere may have flushed the migration's rows


def seed(count=demo.DEFAULT_PROJECTS, **options):
    """The demo accounts (owners of the projects) and projects 1..count; returns the report."""
    demo.ensure_accounts(demo_passwords=False)
    return demo.seed_projects(count, **options)


def demo_projects(count):
    return Project.objects.filter(slug__in=demo.demo_slugs(count))


def snapshot(count):
    """Everything the generator decides, project by project (ids and timestamps of the
    insert itself aside)."""
    rows = (
        demo_projects(count)
        .order_by("slug")
        .values_list(*OWN_FIELDS, *STATE_FIELDS, "verified_at", "track__slug", "owner__username")
    )
    secondary = {}
    for project_slug, track_slug in Through.objects.values_list("project__slug", "track__slug"):
        secondary.setdefault(project_slug, []).append(track_slug)
    return [(*row, sorted(secondary.get(row[OWN_FIELDS.index("slug")], []))) for row in rows]


def test_the_default_makes_at_least_300_public_projects_across_all_tracks():
    report = seed()

    assert (report.created, report.already_there) == (demo.DEFAULT_PROJECTS, 0)
    assert demo_projects(demo.DEFAULT_PROJECTS).count() == demo.DEFAULT_PROJECTS >= 300
    public = Project.objects.published()
    assert public.count() >= 300
    assert set(public.values_list("track__slug", flat=True)) == set(
        Track.objects.values_list("slug", flat=True)
    )


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


def test_seeding_again_adds_nothing():
    seed(60)
    before = (Project.objects.count(), Through.objects.count())

    report = seed(60)

    assert (Project.objects.count(), Through.objects.count()) == before
    assert (report.created, report.already_there, report.secondary_rows) == (0, 60, 0)


def test_the_same_number_gives_the_same_projects():
    anchor = demo.demo_anchor()
    seed(80, anchor=anchor)
    first = snapshot(80)
    demo_projects(80).delete()
    assert not demo_projects(80).exists()

    seed(80, anchor=anchor)

    assert snapshot(80) == first
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


def test_a_smaller_run_then_the_default_adds_only_the_rest():
    anchor = demo.demo_anchor()
    seed(50, anchor=anchor)
    assert demo_projects(demo.DEFAULT_PROJECTS).count() == 50

    report = seed(anchor=anchor)

    assert (report.created, report.already_there) == (demo.DEFAULT_PROJECTS - 50, 50)
    grown = snapshot(demo.DEFAULT_PROJECTS)
    Project.objects.all().delete()
    seed(anchor=anchor)
    assert snapshot(demo.DEFAULT_PROJECTS) == grown  # the same as seeding the default at once


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


def test_publication_fields_are_the_ones_project_publish_sets():
    anchor = demo.demo_anchor()
    for number in range(1, 300):
        fields = demo.build_project(number, anchor).fields
        publication = {name: fields[name] for name in ("published", "published_at", "first_published_at")}
        if fields["published"]:
            project = Project()
            project.publish(fields["published_at"])
            assert publication == {name: getattr(project, name) for name in publication}, number
        else:
            assert publication == {"published": False, "published_at": None, "first_published_at": None}


def test_projects_are_clearly_fictional_and_valid():
    demo.ensure_logos()
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


def test_missing_tracks_are_named():
    Track.objects.filter(slug__in=["video", "coding"]).delete()

    with pytest.raises(LookupError, match="coding, video"):
        seed(5)
    assert not Project.objects.exists()


# The fingerprint of `seed_demo --projects 300` with the anchor below: every generated
# value, the search tokens, the secondary tracks and the insertion order. A faster
# seed must not change it; change it only when the demo data is changed on purpose.
PINNED_ANCHOR = datetime(2026, 11, 29, tzinfo=UTC)
PINNED_FINGERPRINT = (
    "39d6ac6e600837fda6eb79decc3b7b1bdbc1a2be3de168e8a5794fb2c85c92d7"  # issue 16: four years, end states
)


def fingerprint(count=300):
    rows = (
        demo_projects(count)
        .order_by("pk")
        .values_list(
            *OWN_FIELDS, *STATE_FIELDS, "verified_at", "track__slug", "owner__username", "search_tokens"
        )
    )
    links = (
        Through.objects.filter(project__slug__in=demo.demo_slugs(count))
        .order_by("pk")
        .values_list("project__slug", "track__slug")
    )
    digest = hashlib.sha256()
    for row in [*rows, *links]:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_the_generated_data_is_pinned():
    seed(300, anchor=PINNED_ANCHOR)

    assert fingerprint() == PINNED_FINGERPRINT, fingerprint()


def test_a_large_batch_gives_the_same_data_as_small_ones():
    seed(300, anchor=PINNED_ANCHOR, batch_size=7)

    assert fingerprint() == PINNED_FINGERPRINT, fingerprint()


def test_copy_rows_hold_what_saving_the_projects_would_write():
    """PostgreSQL's COPY path builds plain rows instead of Project instances: the same values."""
    tracks = dict(Track.objects.values_list("slug", "pk"))
    owners = {name: index for index, name in enumerate(["founder", *demo.EXTRA_FOUNDERS], start=1)}
    now = timezone.now()
    maker = bulkload.CopyRows(now)
    fields = Project._meta.concrete_fields
    for number in [*range(1, 400), 99_999, 100_000]:
        values, _secondary = demo.project_values(number, PINNED_ANCHOR, tracks, owners)
        project = Project(pk=number, **values)
        expected = [field.get_prep_value(field.pre_save(project, True)) for field in fields]
        row = maker.row(number, values)
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
    """Over LARGE_LOAD new projects, the rows are built by worker processes, the search index
    is dropped and the counts are not kept during the load; both are made again at the end
    (on two connections at once). The rows are the same as ever."""
    ensure_tracks()
    public_counts.rebuild()
    monkeypatch.setattr(bulkload, "LARGE_LOAD", 100)
    kept_during_load = []
    copy_projects = bulkload.copy_projects

    def spy(*args, **kwargs):
        kept_during_load.append(PublicCountState.objects.exists())
        return copy_projects(*args, **kwargs)

    monkeypatch.setattr(bulkload, "copy_projects", spy)

    report = seed(300, anchor=PINNED_ANCHOR)

    assert report.created == 300
    assert "building rows (all processes)" in report.phases and "search index" in report.phases
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
    assert seed(300, anchor=PINNED_ANCHOR).already_there == 300  # and a second run adds nothing


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the search index is PostgreSQL's")
def test_a_seed_puts_back_a_search_index_that_a_killed_large_seed_left_out():
    ensure_tracks()
    seed(20)
    with connection.cursor() as cursor:
        cursor.execute(search.DROP_INDEX_SQL)

    report = seed(20)  # nothing to add, and still

    assert report.created == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [search.INDEX_NAME])
        assert cursor.fetchone()[0] is not None
