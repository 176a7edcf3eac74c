"""Founder pages: owners get them, other founders get 404, visitors are sent to log in,
wrong methods get 405, bad input gets a clear answer and loses nothing."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from review.models import Submission
from tests.base import make_project, make_submission, track
from tests.imagefiles import REFUSALS

pytestmark = pytest.mark.django_db
State = Submission.State
EN = {"accept-language": "en"}


def png(size=(128, 128)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0891b2").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "my logo.png"
    return buffer


def complete(**changes):
    data = {
        "name": "灵犀客服",
        "tagline": "面向电商卖家的智能客服机器人",
        "description": "第一段。\n\n第二段。",
        "track": track("customer-service").pk,
        "hq_city": "杭州",
        "hq_country": "CN",
        "status": "active",
        "website": "https://lingxi.example/",
        "modalities": ["text", "audio"],
    }
    data.update(changes)
    return data


def urls_of(submission, project):
    """Every founder URL with the methods it answers and one it refuses."""
    return [
        (reverse("review:dashboard"), "get", "delete"),
        (reverse("review:submission-new"), "get", "put"),
        (reverse("review:submission-detail", args=[submission.pk]), "get", "post"),
        (reverse("review:submission-edit", args=[submission.pk]), "get", "delete"),
        (reverse("review:submission-submit", args=[submission.pk]), "post", "get"),
        (reverse("review:submission-withdraw", args=[submission.pk]), "post", "get"),
        (reverse("review:project-edit", args=[project.slug]), "get", "put"),
        (reverse("review:project-claim", args=[project.slug]), "get", "delete"),
    ]


class TestAccessMatrix:
    def test_visitors_are_sent_to_log_in(self, client, founder):
        submission, project = make_submission(founder), make_project(owner=founder)
        for url, method, _wrong in urls_of(submission, project):
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("account_login")), url

    def test_another_founder_gets_404_for_someone_elses_things(self, client, founder, other_founder):
        submission, project = make_submission(founder), make_project(owner=founder)
        client.force_login(other_founder)
        for url, method, _wrong in urls_of(submission, project):
            if "claim" in url or url in (reverse("review:dashboard"), reverse("review:submission-new")):
                continue  # their own pages, not someone else's
            assert getattr(client, method)(url).status_code == 404, url
        submission.refresh_from_db()
        assert submission.state == State.DRAFT

    def test_wrong_methods_get_405(self, founder_client, founder):
        submission, project = make_submission(founder), make_project(owner=founder)
        for url, _method, wrong in urls_of(submission, project):
            assert getattr(founder_client, wrong)(url).status_code == 405, url

    def test_the_owner_gets_every_page(self, founder_client, founder):
        submission = make_submission(founder)
        project = make_project(owner=founder)
        for url in [
            reverse("review:dashboard"),
            reverse("review:submission-new"),
            reverse("review:submission-detail", args=[submission.pk]),
            reverse("review:submission-edit", args=[submission.pk]),
            reverse("review:project-edit", args=[project.slug]),
        ]:
            assert founder_client.get(url).status_code == 200, url

    def test_unknown_ids_are_404(self, founder_client):
        assert founder_client.get("/my/submissions/999999/").status_code == 404
        assert founder_client.get("/projects/no-such-slug/edit/").status_code == 404


class TestNewSubmission:
    url = reverse("review:submission-new")

    def test_a_draft_saves_with_only_a_name(self, founder_client, founder):
        response = founder_client.post(self.url, {"name": "只有名字", "action": "save"})
        submission = Submission.objects.get()
        assert response.status_code == 302 and response.url == submission.get_absolute_url()
        assert (submission.owner, submission.state, submission.name) == (founder, State.DRAFT, "只有名字")

    def test_submit_validates_everything_and_keeps_what_was_typed(self, founder_client):
        response = founder_client.post(
            self.url, {"name": "只有名字", "website": "ftp://x", "action": "submit"}, headers=EN
        )
        assert response.status_code == 200
        assert not Submission.objects.exists()
        form = response.context["form"]
        assert {"tagline", "description", "track", "website"} <= set(form.errors)
        assert 'value="只有名字"' in response.text and 'value="ftp://x"' in response.text
        assert "Nothing you typed was lost" in response.text

    def test_a_complete_form_submits(self, founder_client):
        response = founder_client.post(self.url, {**complete(), "action": "submit"})
        submission = Submission.objects.get()
        assert response.status_code == 302
        assert submission.state == State.SUBMITTED
        assert submission.modalities == ["text", "audio"]
        assert list(submission.events.values_list("action", flat=True)) == ["create", "submit"]

    def test_it_stores_a_reencoded_logo_under_a_random_name(self, founder_client):
        founder_client.post(self.url, {**complete(), "logo": png(), "action": "save"})
        submission = Submission.objects.get()
        assert submission.logo.name.startswith("logos/") and submission.logo.name.endswith(".webp")
        assert "my logo" not in submission.logo.name
        with Image.open(submission.logo) as stored:
            assert stored.format == "WEBP"

    def test_a_good_logo_on_a_failed_form_must_be_chosen_again(self, founder_client):
        response = founder_client.post(self.url, {"name": "x", "logo": png(), "action": "submit"}, headers=EN)
        assert response.status_code == 200 and not Submission.objects.exists()
        assert "choose the logo again" in response.text

    @pytest.mark.parametrize(("build", "_code", "message"), REFUSALS.values(), ids=REFUSALS.keys())
    def test_it_refuses_a_bad_logo_with_a_field_error_and_saves_nothing(
        self, founder_client, build, _code, message
    ):
        upload = io.BytesIO(build())
        upload.name = "logo.png"
        response = founder_client.post(
            self.url, {**complete(tagline="保留的一句话"), "logo": upload, "action": "save"}, headers=EN
        )
        assert response.status_code == 200
        assert not Submission.objects.exists()
        assert message in str(response.context["form"].errors["logo"])
        assert 'value="保留的一句话"' in response.text

    def test_secondary_tracks_follow_the_rule(self, founder_client):
        data = complete(secondary_tracks=[track("customer-service").pk], action="save")
        response = founder_client.post(self.url, data, headers=EN)
        assert "cannot be the primary" in str(response.context["form"].errors["secondary_tracks"])
        assert not Submission.objects.exists()


class TestEditSubmission:
    def edit_url(self, submission):
        return reverse("review:submission-edit", args=[submission.pk])

    def test_it_saves_changes_to_a_draft(self, founder_client, founder):
        submission = make_submission(founder, name="Old")
        response = founder_client.post(
            self.edit_url(submission), {**complete(name="New"), "version": 1, "action": "save"}
        )
        submission.refresh_from_db()
        assert response.status_code == 302 and (submission.name, submission.version) == ("New", 2)

    def test_it_refuses_a_stale_form_and_keeps_the_typed_values(self, founder_client, founder):
        submission = make_submission(founder, name="Saved in another tab")
        Submission.objects.filter(pk=submission.pk).update(version=2)
        response = founder_client.post(
            self.edit_url(submission),
            {**complete(name="Typed here"), "version": 1, "action": "save"},
            headers=EN,
        )
        assert response.status_code == 200
        assert "changed since you opened it" in response.text
        assert 'value="Typed here"' in response.text
        submission.refresh_from_db()
        assert submission.name == "Saved in another tab"

    def test_it_refuses_to_edit_a_submitted_one(self, founder_client, founder):
        submission = make_submission(founder, state=State.SUBMITTED, name="Sent")
        response = founder_client.post(self.edit_url(submission), {**complete(name="Changed"), "version": 1})
        assert response.status_code == 302
        submission.refresh_from_db()
        assert submission.name == "Sent"

    def test_submit_button_on_the_detail_page(self, founder_client, founder):
        submission = make_submission(founder)
        founder_client.post(reverse("review:submission-submit", args=[submission.pk]), {"version": 1})
        submission.refresh_from_db()
        assert submission.state == State.SUBMITTED

    def test_submit_of_an_incomplete_draft_says_what_is_missing(self, founder_client, founder):
        submission = make_submission(founder, tagline="")
        response = founder_client.post(
            reverse("review:submission-submit", args=[submission.pk]), {"version": 1}, follow=True, headers=EN
        )
        assert "Some required fields are empty." in response.text
        submission.refresh_from_db()
        assert submission.state == State.DRAFT

    def test_withdraw_needs_a_reason(self, founder_client, founder):
        submission = make_submission(founder, state=State.SUBMITTED)
        url = reverse("review:submission-withdraw", args=[submission.pk])
        founder_client.post(url, {"reason": ""})
        submission.refresh_from_db()
        assert submission.state == State.SUBMITTED
        founder_client.post(url, {"reason": "Merged with another project", "version": submission.version})
        submission.refresh_from_db()
        assert submission.state == State.WITHDRAWN


class TestDashboard:
    def test_it_lists_my_submissions_with_next_steps_and_feedback(
        self, founder_client, founder, other_founder
    ):
        mine = make_submission(founder, name="Mine", state=State.CHANGES_REQUESTED)
        mine.events.create(actor=None, action="request_changes", note="Please add a website.")
        make_submission(other_founder, name="Not mine")
        response = founder_client.get(reverse("review:dashboard"), headers=EN)
        assert "Mine" in response.text and "Not mine" not in response.text
        assert "Please add a website." in response.text
        assert "edit, and submit again" in response.text

    def test_it_shows_an_empty_state(self, founder_client):
        assert "You have not submitted a project yet." in founder_client.get("/my/", headers=EN).text

    def test_the_timeline_shows_events(self, founder_client, founder):
        founder_client.post(reverse("review:submission-new"), {**complete(), "action": "submit"})
        submission = Submission.objects.get()
        text = founder_client.get(submission.get_absolute_url(), headers=EN).text
        assert "Created" in text and "Submitted" in text


class TestUpdatesAndClaims:
    def test_the_owner_proposes_changes_and_the_public_page_keeps_the_live_version(
        self, founder_client, founder
    ):
        project = make_project(owner=founder, name="Live name", track_slug="customer-service")
        form_page = founder_client.get(reverse("review:project-edit", args=[project.slug]))
        assert 'value="Live name"' in form_page.text
        founder_client.post(
            reverse("review:project-edit", args=[project.slug]),
            {**complete(name="Proposed name"), "action": "submit"},
        )
        submission = Submission.objects.get()
        assert (submission.kind, submission.state, submission.project) == ("update", State.SUBMITTED, project)
        public = founder_client.get(project.get_absolute_url()).text
        assert "Live name" in public and "Proposed name" not in public

    def test_a_second_proposal_goes_to_the_open_one(self, founder_client, founder):
        project = make_project(owner=founder)
        open_one = make_submission(founder, kind="update", project=project)
        response = founder_client.get(reverse("review:project-edit", args=[project.slug]))
        assert response.status_code == 302 and response.url == open_one.get_absolute_url()

    def test_a_founder_claims_an_imported_listing(self, founder_client):
        project = make_project(listed_by="editors", name="Imported")
        response = founder_client.post(
            reverse("review:project-claim", args=[project.slug]), {"claim_evidence": "ceo@imported.example"}
        )
        submission = Submission.objects.get()
        assert response.status_code == 302
        assert (submission.kind, submission.state, submission.claim_evidence) == (
            "claim", State.SUBMITTED, "ceo@imported.example",
        )  # fmt: skip

    def test_a_claim_without_evidence_is_refused(self, founder_client):
        project = make_project(listed_by="editors")
        response = founder_client.post(
            reverse("review:project-claim", args=[project.slug]), {"claim_evidence": ""}
        )
        assert response.status_code == 200 and not Submission.objects.exists()

    def test_an_owned_listing_shows_it_cannot_be_claimed(self, founder_client, other_founder):
        project = make_project(owner=other_founder)
        response = founder_client.post(
            reverse("review:project-claim", args=[project.slug]), {"claim_evidence": "mine"}, headers=EN
        )
        assert "already has an owner" in response.text
        assert not Submission.objects.exists()
