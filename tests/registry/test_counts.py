"""The counts PostgreSQL keeps of the public projects (registry/counts.py) always agree with
counting afresh: after every kind of write (the ORM, update_fields, queryset.update, deletes,
the workflow's publish / unpublish / republish, imports, seed_demo's COPY), for every scope,
when a scheduled project's time comes (no write at all), and with the application's clock
behind the database's. SQLite keeps no counts: there the pages always count afresh (the
other tests of the map and the statistics run on both)."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from registry import counts, demo
from registry.fields import has_any
from registry.filters import FlagFilter, ProjectFilterSet
from registry.models import Project, PublicCount, PublicCountState
from registry.stats import count_afresh
from review import workflow
from review.importing import apply_import
from tests.base import make_project, make_user, track
from tests.review.import_files import csv_file
from tests.review.workflow_builders import approved, make_editor, make_reviewer, published

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL keeps the counts"),
]

MANY_OF = set(counts.many_of_scopes())


@pytest.fixture(autouse=True)
def kept():
    """Counts kept from a fresh count (a transactional test elsewhere may have truncated them)."""
    counts.rebuild()


def public_at(at, scope=""):
    """The projects public at `at` in `scope`, by the ORM."""
    projects = Project.objects.filter(published=True, published_at__lte=at)
    if not scope:
        return projects
    name, value = scope.split(":", 1)
    filter_ = ProjectFilterSet.base_filters[name]
    if name in MANY_OF:
        return projects.filter(has_any(filter_.field_name, [value]))
    if isinstance(filter_, FlagFilter):  # 'reviewed:1' / 'reviewed:0'
        return projects.filter(**{filter_.field_name: value == "1"})
    return projects.filter(**{filter_.column: value})


def as_dicts(found):
    return {dimension: dict(values) for dimension, values in found.dimensions.items()}


def assert_agrees(scopes=("",), at=None):
    """The kept counts of `scopes` at `at` equal a fresh count (of their union: one-of scopes)."""
    at = at or timezone.now()
    kept_counts = counts.read(scopes, at=at)
    assert kept_counts is not None
    projects = public_at(at, scopes[0])
    for scope in scopes[1:]:
        projects = projects | public_at(at, scope)
    fresh = count_afresh(projects)
    assert as_dicts(kept_counts) == as_dicts(fresh)
    # the top cities in the same order (most projects, then by name)
    assert kept_counts.get("hq_city") == fresh.get("hq_city")
    return kept_counts


def every_scope():
    return sorted(set(PublicCount.objects.values_list("scope", flat=True)))


def assert_all_agree(at=None):
    for scope in every_scope():
        assert_agrees((scope,), at=at)


def varied_projects():
    """Projects differing in every counted column, public, unpublished and scheduled."""
    now = timezone.now()
    make_project(track_slug="coding", hq_country="CN", hq_city="杭州", stage="growth", verified=True,
                 business_models=["subscription", "usage"], foundation_models=["open_source"],
                 customer_types=["developer"], modalities=["text"], seeking=["funding"])  # fmt: skip
    make_project(track_slug="coding", hq_country="US", hq_city="Austin", stage="idea", funding_stage="seed",
                 team_size="1_10", target_market="global", status="closed")  # fmt: skip
    make_project(track_slug="agents", hq_country="CN", hq_city="杭州", business_models=["usage"],
                 first_published_at=now - timedelta(days=400))  # fmt: skip
    make_project(track_slug="video", hq_country="", hq_city="")
    make_project(track_slug="agents", published=False, stage="mature")
    make_project(track_slug="agents", published_at=now + timedelta(days=2), stage="mature", hq_city="Future")


class TestEveryWritePath:
    def test_inserts_through_the_orm(self):
        varied_projects()
        found = assert_agrees()
        assert found.total() == 4 and found.as_dict("hq_city") == {"杭州": 2, "Austin": 1, "": 1}
        assert_all_agree()

    def test_saves_of_every_counted_column(self):
        varied_projects()
        project = Project.objects.get(hq_city="Austin")
        for name, value in [("stage", "mature"), ("track", track("video")), ("hq_country", "JP"),
                            ("hq_city", "Osaka"), ("business_models", ["license"]), ("verified", True),
                            ("status", "active"), ("first_published_at", timezone.now() - timedelta(days=90))]:  # fmt: skip
            setattr(project, name, value)
            project.save()
            assert_agrees()
        assert_all_agree()

    def test_saves_that_change_nothing_counted_add_no_pieces(self):
        varied_projects()
        counts.settle()
        pieces = PublicCount.objects.count()
        project = Project.objects.get(hq_city="Austin")
        project.tagline = "Something else"
        project.save()
        Project.objects.update(featured=True)
        assert PublicCount.objects.count() == pieces

    def test_update_fields_queryset_updates_and_deletes(self):
        varied_projects()
        project = Project.objects.get(hq_city="Austin")
        project.published = False
        project.save(update_fields=["published", "updated_at"])
        assert_agrees()
        Project.objects.filter(track__slug="coding").update(stage="launched", hq_city="Shenzhen")
        assert_agrees()
        Project.objects.filter(hq_country="CN").delete()
        assert_agrees()
        assert_all_agree()

    def test_publish_unpublish_republish_and_an_update_through_the_workflow(self):
        founder, editor, reviewer = make_user(), make_editor(), make_reviewer()
        submission = published(founder, editor=editor, reviewer=reviewer, hq_country="SG", stage="growth")
        project = submission.project
        assert_agrees()
        workflow.unpublish(project, by=editor, reason="Checking the facts.")
        assert_agrees()
        workflow.republish(project, by=editor, reason="Checked.")
        assert_agrees()
        published(founder, editor=editor, reviewer=reviewer, kind="update", project=project,
                  name=project.name, hq_country="JP", stage="mature", track_slug="video")  # fmt: skip
        project.refresh_from_db()
        assert (project.hq_country, project.stage, project.track.slug) == ("JP", "mature", "video")
        found = assert_agrees()
        assert found.as_dict("hq_country") == {"JP": 1}
        assert_all_agree()

    def test_a_scheduled_publication_through_the_workflow(self):
        founder, editor, reviewer = make_user(), make_editor(), make_reviewer()
        submission = workflow.publish(
            approved(founder, editor=editor, reviewer=reviewer),
            by=editor,
            publish_at=timezone.now() + timedelta(hours=3),
        )
        assert submission.project.published_at > timezone.now()
        assert counts.read().total() == 0
        assert assert_agrees(at=timezone.now() + timedelta(hours=4)).total() == 1

    def test_an_import(self):
        existing = make_project(name="Existing", track_slug="agents", hq_country="CN", listed_by="editors")
        assert_agrees()
        header = ("slug", "name", "track", "hq_country", "stage", "business_models")
        rows = [(existing.slug, "Existing", "agents", "US", "growth", "usage"),
                ("", "New one", "coding", "SG", "idea", "license;usage"), ("", "New two", "video", "", "", "")]  # fmt: skip
        result = apply_import(csv_file(rows, header=header), actor=make_editor())
        assert (result.created, result.updated) == (2, 1), result.message
        found = assert_agrees()
        assert found.total() == 3 and found.as_dict("hq_country")["US"] == 1  # the existing one moved
        assert_all_agree()

    def test_seed_demo_bulk_inserts(self):
        demo.seed_projects(40)  # COPY on PostgreSQL
        found = assert_agrees()
        assert found.total() == Project.objects.published().count() > 0
        assert_all_agree()


class TestTime:
    def test_a_scheduled_project_counts_from_its_time_with_no_write(self):
        varied_projects()
        later = timezone.now() + timedelta(days=3)
        before = counts.read()
        assert before.total() == 4
        found = assert_agrees(at=later)  # the scheduled one is public by then
        assert found.total() == 5 and found.as_dict("stage")["mature"] == 1
        for scope in every_scope():
            assert_agrees((scope,), at=later)

    def test_projects_public_since_the_last_count_are_folded_in_when_read(self):
        make_project(published_at=timezone.now() + timedelta(seconds=1), stage="idea")
        assert counts.read().total() == 0
        time.sleep(1.2)
        state = PublicCountState.objects.get()
        found = assert_agrees()
        assert found.total() == 1
        # reading folded it into the kept counts: one piece per count, counted_until moved on
        assert PublicCountState.objects.get().counted_until > state.counted_until
        pieces = PublicCount.objects.filter(scope="", dimension="stage", value="idea")
        assert [piece.n for piece in pieces] == [1]

    def test_an_application_clock_behind_the_database(self):
        make_project(published_at=timezone.now() - timedelta(seconds=30))
        assert counts.read().total() == 1
        assert assert_agrees(at=timezone.now() - timedelta(minutes=1)).total() == 0


class TestScopes:
    def test_the_reviewed_scope_counts_the_reviewed_projects(self):
        varied_projects()
        assert assert_agrees(("reviewed:1",)).total() == 1
        assert assert_agrees(("reviewed:0",)).total() == 3

    def test_several_values_of_one_filter_add_up(self):
        varied_projects()
        coding, video = track("coding").pk, track("video").pk
        assert assert_agrees((f"track:{coding}", f"track:{video}")).total() == 3
        assert assert_agrees(("hq_country:CN", "hq_country:US")).total() == 3

    def test_which_filters_a_scope_stands_for(self, rf):
        from registry.filters import ProjectFilterSet

        def scopes(query):
            return counts.scopes_for(ProjectFilterSet(rf.get("/", query).GET, queryset=Project.objects.all()))

        coding = track("coding").pk
        assert scopes({}) == [""]
        assert scopes({"sort": "name", "page": "2"}) == [""]
        assert scopes({"track": "coding"}) == [f"track:{coding}"]
        assert scopes({"stage": ["growth", "idea", "growth"]}) == ["stage:growth", "stage:idea"]
        assert scopes({"business_models": "usage"}) == ["business_models:usage"]
        assert scopes({"reviewed": "1"}) == ["reviewed:1"]
        assert scopes({"stage": "nonsense"}) == [""]  # ignored, as the list ignores it
        assert scopes({"reviewed": "banana"}) == [""]
        for query in ({"business_models": ["usage", "license"]}, {"q": "x"}, {"hq_city": "杭州"},
                      {"founded_min": "2020"}, {"track": "coding", "stage": "idea"}):  # fmt: skip
            assert scopes(query) is None, query


class TestKeeping:
    def test_settling_sums_the_pieces_and_changes_no_count(self):
        varied_projects()
        Project.objects.filter(hq_country="CN").update(stage="mature")
        before = as_dicts(counts.read())
        assert counts.settle()
        assert as_dicts(counts.read()) == before
        duplicates = (
            PublicCount.objects.values("scope", "dimension", "value")
            .annotate(pieces=Count("pk"))
            .filter(pieces__gt=1)
        )
        assert not duplicates.exists()

    def test_a_read_compacts_the_pieces_once_they_pile_up(self):
        varied_projects()
        before = as_dicts(counts.read())
        compacted = PublicCount.objects.filter(scope="").count()

        def cancelling_pieces(pairs):  # +1 and -1: what many writes to one project leave
            return [
                PublicCount(scope="", dimension="stage", value="idea", n=n)
                for _ in range(pairs)
                for n in (1, -1)
            ]

        PublicCount.objects.bulk_create(cancelling_pieces((counts.SETTLE_PIECES - compacted) // 2))
        at_limit = PublicCount.objects.filter(scope="").count()
        assert counts.SETTLE_PIECES - 1 <= at_limit <= counts.SETTLE_PIECES
        assert as_dicts(counts.read()) == before
        assert PublicCount.objects.filter(scope="").count() == at_limit  # not yet

        PublicCount.objects.bulk_create(cancelling_pieces(1))
        assert as_dicts(counts.read()) == before
        unfiltered = PublicCount.objects.filter(scope="")
        assert unfiltered.count() <= compacted  # one piece a count, the cancelled ones gone
        assert unfiltered.count() == unfiltered.values("dimension", "value").distinct().count()

    def test_a_rebuild_gives_the_counts_kept(self):
        varied_projects()
        Project.objects.filter(hq_country="US").delete()

        def everything():
            found = {scope: as_dicts(counts.read((scope,))) for scope in every_scope()}
            return {scope: dimensions for scope, dimensions in found.items() if dimensions}

        kept_counts = everything()
        counts.rebuild()
        assert everything() == kept_counts

    def test_truncating_the_projects_forgets_the_counts_and_the_pages_count_afresh(self, client):
        varied_projects()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending checks
            cursor.execute("TRUNCATE registry_project CASCADE")
        assert counts.read() is None
        response = client.get("/stats/")
        assert response.status_code == 200 and response.context["numbers"]["projects"] == 0
        call_command("recount_public", stdout=io.StringIO())
        assert counts.read().total() == 0

    def test_the_pages_show_the_same_with_and_without_kept_counts(self, client):
        varied_projects()
        pages = ["/stats/", "/stats/?stage=growth", "/stats/?track=coding&track=agents", "/map/",
                 "/map/?hq_country=CN", "/stats/?business_models=usage"]  # fmt: skip
        kept_pages = {page: client.get(page).content for page in pages}
        PublicCountState.objects.all().delete()  # counts no longer kept: every page counts afresh
        assert counts.read() is None
        for page in pages:
            assert client.get(page).content == kept_pages[page], page


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_readers_leave_the_counts_right():
    """Two connections writing projects at once (inserts, updates, unpublishing, scheduled
    ones coming due) while a third reads and settles: no deadlock, nobody waits for long, and
    the counts agree with a fresh count afterwards."""
    import threading

    from django.db import transaction

    from tests.base import ensure_tracks

    ensure_tracks()
    counts.rebuild()
    tracks = [track(slug) for slug in ("coding", "video", "agents")]
    errors, done = [], threading.Event()

    def writer(side):
        try:
            for number in range(25):
                with transaction.atomic():
                    project = Project.objects.create(
                        name=f"{side} {number}", track=tracks[number % 3], published=True,
                        published_at=timezone.now() + timedelta(milliseconds=300 * (number % 2)),
                        stage=["idea", "growth"][number % 2], hq_country=["CN", "US"][number % 2],
                    )  # fmt: skip
                    project.stage = "mature" if number % 3 == 0 else project.stage
                    project.save()
                    if number % 5 == 4:
                        Project.objects.filter(name=f"{side} {number - 1}").update(published=False)
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    def reader():
        try:
            while not done.is_set():
                counts.read()
                counts.settle()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(side,)) for side in ("left", "right")]
    watcher = threading.Thread(target=reader)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done.set()
    watcher.join(timeout=60)
    assert not errors, errors
    time.sleep(0.4)  # the last scheduled ones have come
    assert assert_agrees().total() == Project.objects.published().count() == 40
    assert counts.settle()
    assert_all_agree()
