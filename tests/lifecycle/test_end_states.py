"""Dated end states (issue 16): the rules a closure, an acquisition and a pivot obey, in the
founder's update form and in the schema's one function; what the public pages show of them
(labels, lineage, the map, the filters); nothing is deleted for dying."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.listing import end_state_errors, end_state_values
from registry.models import Project
from review import workflow
from review.models import Event, Submission
from tests.base import make_project, make_user
from tests.review.workflow_builders import make_editor, make_reviewer, review

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


def founder_update(client, project, **changes):
    """The owner proposes an update of `project` through the form; the response."""
    data = {
        "name": project.name,
        "tagline": project.tagline,
        "description": project.description,
        "track": project.track_id,
        "hq_city": "杭州",
        "hq_country": "CN",
        "status": "active",
        "action": "submit",
        **changes,
    }
    return client.post(reverse("review:project-edit", args=[project.slug]), data, headers=EN)


@pytest.fixture
def owner(client):
    user = make_user("owner")
    client.force_login(user)
    return user


class TestTheRules:
    def test_an_end_state_needs_its_date_and_its_evidence(self):
        errors = end_state_errors({"status": "closed"})
        assert set(errors) == {"status_since", "status_evidence"}
        assert not end_state_errors(
            {"status": "closed", "status_since": date(2025, 1, 2), "status_evidence": "x"}
        )

    def test_the_date_is_not_to_come_nor_before_the_founding(self):
        tomorrow = timezone.localdate() + timedelta(days=1)
        assert "status_since" in end_state_errors(
            {"status": "closed", "status_since": tomorrow, "status_evidence": "x"}
        )
        early = {
            "status": "pivoted",
            "status_since": date(2019, 5, 1),
            "status_evidence": "x",
            "founded_year": 2020,
        }
        assert "status_since" in end_state_errors(early)

    def test_acquired_needs_an_acquirer_by_name_or_on_the_map(self):
        values = {"status": "acquired", "status_since": date(2025, 1, 2), "status_evidence": "x"}
        assert set(end_state_errors(values)) == {"acquired_by"}
        assert not end_state_errors({**values, "acquired_by": "Example Group"})
        assert not end_state_errors({**values, "acquirer": make_project()})

    def test_a_successor_is_not_the_listing_itself_and_closes_no_cycle(self):
        a, b, c = make_project(), make_project(), make_project()
        Project.objects.filter(pk=b.pk).update(successor=c)
        Project.objects.filter(pk=c.pk).update(successor=a)
        pivot = {"status": "pivoted", "status_since": date(2025, 1, 2), "status_evidence": "x"}
        assert "successor" in end_state_errors({**pivot, "successor": a}, listing_pk=a.pk)
        b.refresh_from_db()
        assert "successor" in end_state_errors({**pivot, "successor": b}, listing_pk=a.pk)  # a -> b -> c -> a
        assert not end_state_errors({**pivot, "successor": make_project()}, listing_pk=a.pk)

    def test_fields_that_do_not_belong_to_the_status_are_emptied(self):
        other = make_project()
        values = end_state_values(
            {"status": "active", "status_since": date(2025, 1, 2), "status_evidence": "x", "successor": other}
        )
        assert (values["status_since"], values["status_evidence"], values["successor"]) == (None, "", None)
        closed = end_state_values({"status": "closed", "status_since": date(2025, 1, 2), "successor": other,
                                   "acquired_by": "X"})  # fmt: skip
        assert (
            closed["status_since"] == date(2025, 1, 2)
            and closed["successor"] is None
            and closed["acquired_by"] == ""
        )


class TestTheFoundersUpdate:
    def test_a_closure_without_date_or_evidence_is_refused_next_to_the_fields_and_nothing_is_written(
        self, client, owner
    ):
        project = make_project(owner=owner)
        response = founder_update(client, project, status="closed")
        assert response.status_code == 200
        form = response.context["form"]
        assert "status_since" in form.errors and "status_evidence" in form.errors
        assert not Submission.objects.filter(project=project).exists()
        project.refresh_from_db()
        assert project.status == "active"

    def test_a_successor_given_by_its_address_must_be_on_the_map(self, client, owner):
        project = make_project(owner=owner)
        hidden = make_project(published=False, slug="hidden-one")
        response = founder_update(
            client, project, status="pivoted", status_since="2025-03-01", status_evidence="https://n.example/",
            successor=f"https://map.example/projects/{hidden.slug}/",
        )  # fmt: skip
        assert "No project on the map has the address" in response.context["form"].errors["successor"][0]
        response = founder_update(
            client, project, status="pivoted", status_since="2025-03-01", status_evidence="https://n.example/",
            successor=project.slug,
        )  # fmt: skip
        assert response.context["form"].errors["successor"] == ["A project cannot have become itself."]

    def test_a_pivot_reviewed_as_any_update_reaches_the_map_and_verifies_it(self, client, owner):
        project = make_project(owner=owner)
        new = make_project(slug="the-new-thing", name="The New Thing")
        response = founder_update(
            client, project, status="pivoted", status_since="2025-03-01", status_evidence="Announced to our users",
            successor=f"http://testserver/projects/{new.slug}/",
        )  # fmt: skip
        assert response.status_code == 302
        submission = Submission.objects.get(project=project)
        assert (submission.status, submission.successor) == ("pivoted", new)
        editor, reviewer = make_editor(), make_reviewer()
        workflow.start_review(submission, by=editor)
        workflow.assign(submission, by=editor, reviewer=reviewer)
        review(submission, reviewer)
        workflow.approve(submission, by=reviewer)
        workflow.publish(submission, by=editor)
        project.refresh_from_db()
        assert (project.status, project.status_since, project.successor) == ("pivoted", date(2025, 3, 1), new)
        assert project.last_verified_at is not None
        published = Event.objects.get(submission=submission, action="publish")
        assert {"status", "status_since", "status_evidence", "successor"} <= set(published.changed_fields)


class TestWhatThePublicSees:
    def test_a_closed_listing_stays_findable_labelled_with_its_date_and_evidence(self, client):
        make_project(name="Gone Co", slug="gone-co", status="closed", status_since=date(2024, 5, 17),
                     status_evidence="https://news.example/gone")  # fmt: skip
        listing = client.get("/projects/?status=closed", headers=EN).content.decode()
        assert "Gone Co" in listing and "Closed 2024-05" in listing and "is-gone" in listing
        page = client.get("/projects/gone-co/", headers=EN).content.decode()
        assert "Closed on May 17, 2024." in page
        assert 'href="https://news.example/gone"' in page

    def test_the_lineage_reads_both_ways_and_names_the_acquirer(self, client):
        new = make_project(name="Newer", slug="newer")
        buyer = make_project(name="Buyer", slug="buyer")
        make_project(name="Older", slug="older", status="pivoted", status_since=date(2025, 2, 3),
                     status_evidence="note", successor=new)  # fmt: skip
        make_project(name="Bought", slug="bought", status="acquired", status_since=date(2025, 6, 1),
                     status_evidence="note", acquirer=buyer, acquired_by="Buyer")  # fmt: skip
        older = client.get("/projects/older/", headers=EN).content.decode()
        assert 'became <a href="/projects/newer/">Newer</a>' in older
        assert (
            'Formerly <a href="/projects/older/">Older</a>'
            in client.get("/projects/newer/", headers=EN).content.decode()
        )
        bought = client.get("/projects/bought/", headers=EN).content.decode()
        assert 'Acquired by <a href="/projects/buyer/">Buyer</a> on June 1, 2025.' in bought
        assert (
            'Acquired <a href="/projects/bought/">Bought</a>'
            in client.get("/projects/buyer/", headers=EN).content.decode()
        )

    def test_a_link_to_a_listing_off_the_map_is_not_shown(self, client):
        hidden = make_project(name="Hidden Successor", slug="hidden-successor", published=False)
        make_project(name="Old", slug="old", status="pivoted", status_since=date(2025, 2, 3),
                     status_evidence="note", successor=hidden)  # fmt: skip
        page = client.get("/projects/old/", headers=EN).content.decode()
        assert "Pivoted on Feb. 3, 2025." in page and "Hidden Successor" not in page

    def test_the_page_says_when_it_was_last_verified(self, client):
        make_project(
            slug="fresh", last_verified_at=datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
        )  # noon in Shanghai
        make_project(slug="never")
        assert (
            "Information verified on March 9, 2026"
            in client.get("/projects/fresh/", headers=EN).content.decode()
        )
        zh = client.get("/projects/fresh/", headers={"accept-language": "zh-hans"}).content.decode()
        assert "信息核实于" in zh
        assert "Information not verified yet" in client.get("/projects/never/", headers=EN).content.decode()

    def test_the_filter_verified_within_twelve_months(self, client):
        now = timezone.now()
        make_project(name="Recently verified", last_verified_at=now - timedelta(days=30))
        make_project(name="Verified long ago", last_verified_at=now - timedelta(days=400))
        make_project(name="Never verified")
        text = client.get("/projects/?verified_recently=1", headers=EN).content.decode()
        assert "Recently verified" in text and "long ago" not in text and "Never verified" not in text
        assert (
            "was not understood"
            in client.get("/projects/?verified_recently=yes", headers=EN).content.decode()
        )
        api = client.get("/api/projects/?verified_recently=1").json()
        assert [item["name"] for item in api["results"]] == ["Recently verified"]


@pytest.mark.parametrize(
    "value", ["\x00", "a\x00b", "x" * 5000, "../../etc", "https://map.example/projects/%00/"]
)
def test_a_hostile_listing_address_is_refused_next_to_the_field(client, owner, value):
    project = make_project(owner=owner)
    response = founder_update(
        client, project, status="pivoted", status_since="2025-03-01", status_evidence="note", successor=value
    )
    assert response.status_code == 200 and "successor" in response.context["form"].errors
    assert not Submission.objects.filter(project=project).exists()


def test_the_lineage_costs_a_query_only_when_something_links(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_project(slug="alone")
    newer = make_project(slug="newer-one")
    make_project(slug="older-one", status="pivoted", status_since=date(2025, 1, 1), status_evidence="x",
                 successor=newer)  # fmt: skip
    client.get("/projects/alone/")  # warm: the tracks, the sessions
    with CaptureQueriesContext(connection) as alone:
        client.get("/projects/alone/")
    with CaptureQueriesContext(connection) as linked:
        assert (
            'Formerly <a href="/projects/older-one/">'
            in client.get("/projects/newer-one/", headers=EN).content.decode()
        )
    with CaptureQueriesContext(connection) as forward:  # what it became: read with the project itself
        page = client.get("/projects/older-one/", headers=EN).content.decode()
    assert 'became <a href="/projects/newer-one/">' in page
    assert len(linked) == len(alone) + 1 and len(forward) == len(alone)
