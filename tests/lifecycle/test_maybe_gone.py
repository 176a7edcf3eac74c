"""The editors' "maybe gone" queue (issue 16, points 1, 2 and 5): visitors report a problem
(rate-limited, with a honeypot), link alerts land beside them, and an editor closes the
listing from evidence, marks a false alarm or marks it handled; nothing closes by itself.
Reviewers see what became of a founder's earlier projects."""

from datetime import date

import pytest
from django.urls import reverse

from registry.models import Project
from review import lifecycle
from review.models import Concern, Event, LinkCheck
from tests.base import make_project, make_submission, make_user
from tests.review.workflow_builders import make_editor, make_reviewer

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


def report(client, project, **data):
    return client.post(
        reverse("review:project-report", args=[project.slug]),
        {"kind": "closed", "message": "Their site says goodbye", **data},
        headers=EN,
    )


class TestAVisitorsReport:
    def test_a_report_lands_in_the_queue_and_changes_nothing_on_the_map(self, client):
        project = make_project(name="Maybe Gone")
        page = client.get(project.get_absolute_url(), headers=EN).content.decode()
        assert reverse("review:project-report", args=[project.slug]) in page
        response = report(client, project, email="reader@example.com")
        assert response.status_code == 200 and "Thank you" in response.content.decode()
        concern = Concern.objects.get()
        assert (concern.project, concern.kind, concern.source, concern.state) == (
            project,
            "closed",
            "report",
            "open",
        )
        assert concern.reporter_email == "reader@example.com" and len(concern.reporter_key) == 32
        project.refresh_from_db()
        assert project.status == "active"

    def test_a_bad_kind_is_said_next_to_the_field_and_stores_nothing(self, client):
        project = make_project()
        response = report(client, project, kind="spam")
        assert response.status_code == 200 and "kind" in response.context["form"].errors
        assert response.context["form"]["message"].value() == "Their site says goodbye"  # kept
        assert not Concern.objects.exists()

    def test_the_honeypot_thanks_a_bot_and_stores_nothing(self, client):
        response = report(client, make_project(), homepage="http://spam.example/")
        assert response.status_code == 200 and "Thank you" in response.content.decode()
        assert not Concern.objects.exists()

    def test_a_flood_from_one_client_is_refused_with_429(self, client, settings):
        settings.PROBLEM_REPORTS_PER_HOUR = 3
        project = make_project()
        assert [report(client, project).status_code for _ in range(3)] == [200, 200, 200]
        flood = report(client, project)
        assert flood.status_code == 429 and "many reports" in flood.content.decode()
        assert Concern.objects.count() == 3
        other = client.post(
            reverse("review:project-report", args=[project.slug]),
            {"kind": "wrong"},
            REMOTE_ADDR="198.51.100.9",
        )
        assert other.status_code == 200 and Concern.objects.count() == 4  # another client is not held back

    def test_only_listings_on_the_map_can_be_reported(self, client):
        hidden = make_project(published=False, slug="hidden")
        assert client.get(reverse("review:project-report", args=["hidden"])).status_code == 404
        assert report(client, hidden).status_code == 404
        assert client.get(reverse("review:project-report", args=["no-such"])).status_code == 404
        assert not Concern.objects.exists()


class TestTheEditorsAnswer:
    def test_an_editor_closes_the_listing_from_evidence_and_it_stays_findable(self, client):
        project = make_project(name="Faded Co", slug="faded-co", track_slug="coding")
        concern = lifecycle.report_problem(project, kind="closed", message="https://news.example/faded")
        editor = make_editor()
        client.force_login(editor)
        page = client.get(reverse("admin:review_concern_change", args=[concern.pk]), headers=EN)
        assert page.status_code == 200 and "Record what became of it" in page.content.decode()
        response = client.post(
            reverse("admin:review_concern_close", args=[concern.pk]),
            {"status": "closed", "since": "2025-09-30", "evidence": "https://news.example/faded"},
        )
        assert response.status_code == 302
        project.refresh_from_db()
        assert (project.status, project.status_since, project.status_evidence) == (
            "closed", date(2025, 9, 30), "https://news.example/faded",
        )  # fmt: skip
        assert project.is_public and project.last_verified_at is not None
        concern.refresh_from_db()
        assert (concern.state, concern.resolved_by) == ("closed_listing", editor)
        assert {e.action for e in Event.objects.filter(project=project)} >= {"end_state", "concern_resolved"}
        client.logout()
        tiles = client.get("/map/", headers=EN).content.decode()
        assert 'class="tile is-gone" href="/projects/faded-co/"' in tiles and "Closed 2025-09" in tiles

    def test_a_closure_without_a_date_or_evidence_changes_nothing(self, client):
        project = make_project()
        concern = lifecycle.report_problem(project, kind="closed")
        client.force_login(make_editor())
        response = client.post(reverse("admin:review_concern_close", args=[concern.pk]), {"status": "closed"})
        assert response.status_code == 302
        project.refresh_from_db()
        concern.refresh_from_db()
        assert project.status == "active" and concern.state == "open"
        assert not Event.objects.filter(action="end_state").exists()

    def test_acquired_without_an_acquirer_is_refused(self):
        project = make_project()
        with pytest.raises(lifecycle.TransitionError) as refused:
            lifecycle.record_end_state(
                project, by=make_editor(), status="acquired", since=date(2025, 1, 1), evidence="news"
            )
        assert "acquired_by" in refused.value.errors
        project.refresh_from_db()
        assert project.status == "active"

    def test_a_false_alarm_silences_that_addresss_checks(self, client):
        project = make_project(website="https://alive.example/")
        LinkCheck.objects.create(project=project, url=project.website, checked_at=project.published_at, ok=False,
                                 error="timed out", failures=4, failing_since=project.published_at)  # fmt: skip
        concern = lifecycle.raise_link_alert(project.pk, error="timed out")
        assert lifecycle.raise_link_alert(project.pk, error="timed out") is None  # one open alert
        client.force_login(make_editor())
        client.post(reverse("admin:review_concern_resolve", args=[concern.pk]), {"state": "false_alarm"})
        concern.refresh_from_db()
        check = LinkCheck.objects.get(project=project)
        assert concern.state == "false_alarm" and check.silenced_url == "https://alive.example/"
        assert check.failures == 0
        project.refresh_from_db()
        assert project.status == "active"

    def test_an_answered_report_cannot_be_answered_again(self):
        project = make_project()
        concern = lifecycle.report_problem(project, kind="wrong")
        editor = make_editor()
        lifecycle.resolve_concern(concern, by=editor, state="fixed")
        with pytest.raises(lifecycle.TransitionError):
            lifecycle.resolve_concern(concern, by=editor, state="false_alarm")

    def test_the_queue_is_for_editors_only(self, client):
        concern = lifecycle.report_problem(make_project(), kind="wrong")
        for user in (make_reviewer(), make_user("founder-x")):
            client.force_login(user)
            assert client.get(reverse("admin:review_concern_change", args=[concern.pk])).status_code in (
                302,
                403,
            )
            client.post(
                reverse("admin:review_concern_close", args=[concern.pk]),
                {"status": "closed", "since": "2025-01-01", "evidence": "x"},
            )
        concern.refresh_from_db()
        assert concern.state == "open"
        client.force_login(make_editor())
        listing = client.get("/admin/review/concern/", headers=EN).content.decode()
        assert concern.project.name in listing


def test_reviewers_see_what_became_of_the_founders_earlier_projects(client):
    founder = make_user("serial-founder")
    make_project(
        owner=founder, name="First Try", status="closed", status_since=date(2024, 5, 2), status_evidence="x"
    )
    make_project(owner=founder, name="Second Try", status="acquired", status_since=date(2025, 2, 9),
                 status_evidence="x", acquired_by="Big Co")  # fmt: skip
    make_project(owner=founder, name="Third Try")
    submission = make_submission(founder, state="submitted")
    client.force_login(make_editor())
    text = client.get(
        reverse("admin:review_submission_change", args=[submission.pk]), headers=EN
    ).content.decode()
    assert "The founder's 3 other projects on the map: closed 2024-05, acquired 2025-02; 1 active" in text
    assert "First Try" in text and "Third Try" in text
    assert Project.objects.filter(owner=founder).count() == 3
