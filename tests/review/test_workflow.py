"""review.workflow, called directly: the founder's side of the transitions."""

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from review import workflow
from review.models import Event, Submission
from review.workflow import StaleSubmission, TransitionError
from tests.base import content, make_project, make_submission

pytestmark = pytest.mark.django_db
State = Submission.State

COMPLETE = {
    "name": "灵犀客服",
    "tagline": "面向电商卖家的智能客服机器人",
    "description": "介绍",
    "track": "customer-service",
}


def actions(submission):
    return list(submission.events.values_list("action", "from_state", "to_state"))


class TestCreate:
    def test_it_creates_a_draft_with_partial_content(self, founder):
        submission = workflow.create(by=founder, content=content(name="只有名字"))
        assert (submission.state, submission.owner, submission.name, submission.track) == (
            State.DRAFT, founder, "只有名字", None,
        )  # fmt: skip
        assert actions(submission) == [("create", "", "draft")]

    @override_settings(MAX_OPEN_DRAFTS=2)
    def test_it_caps_open_drafts_per_founder(self, founder):
        workflow.create(by=founder, content=content(name="one"))
        workflow.create(by=founder, content=content(name="two"))
        with pytest.raises(TransitionError, match="already have 2 drafts"):
            workflow.create(by=founder, content=content(name="three"))
        assert Submission.objects.count() == 2

    @override_settings(MAX_OPEN_DRAFTS=1)
    def test_submitted_ones_do_not_count_against_the_cap(self, founder):
        workflow.create_and_submit(by=founder, content=content(draft=False, **COMPLETE))
        assert workflow.create(by=founder, content=content(name="next")).state == State.DRAFT


class TestSaveDraft:
    def test_it_writes_content_and_bumps_the_version(self, founder):
        submission = make_submission(founder, name="Old")
        saved = workflow.save_draft(
            submission, by=founder, content=content(instance=submission, name="New"), expected_version=1
        )
        assert (saved.name, saved.version) == ("New", 2)
        assert actions(saved) == [("edit", "draft", "draft")]

    def test_it_refuses_a_stale_form_and_keeps_the_newer_content(self, founder):
        submission = make_submission(founder, name="Newer")
        Submission.objects.filter(pk=submission.pk).update(version=3)
        with pytest.raises(StaleSubmission, match="changed since you opened it"):
            workflow.save_draft(
                submission, by=founder, content=content(instance=submission, name="Older"), expected_version=1
            )
        submission.refresh_from_db()
        assert (submission.name, submission.version) == ("Newer", 3)
        assert not Event.objects.exists()

    def test_it_refuses_another_founder(self, founder, other_founder):
        submission = make_submission(founder, name="Mine")
        with pytest.raises(TransitionError, match="Only the founder"):
            workflow.save_draft(
                submission,
                by=other_founder,
                content=content(instance=submission, name="Theirs"),
                expected_version=1,
            )
        submission.refresh_from_db()
        assert submission.name == "Mine"

    @pytest.mark.parametrize(
        "state",
        [State.SUBMITTED, State.IN_REVIEW, State.APPROVED, State.PUBLISHED, State.REJECTED, State.WITHDRAWN],
    )
    def test_it_refuses_to_edit_outside_draft_and_changes_requested(self, founder, state):
        submission = make_submission(founder, state=state, name="Frozen")
        with pytest.raises(TransitionError, match="cannot be edited"):
            workflow.save_draft(
                submission,
                by=founder,
                content=content(instance=submission, name="Thawed"),
                expected_version=1,
            )
        submission.refresh_from_db()
        assert submission.name == "Frozen"

    def test_it_allows_editing_after_changes_were_requested(self, founder):
        submission = make_submission(founder, state=State.CHANGES_REQUESTED, name="Before")
        saved = workflow.save_draft(
            submission, by=founder, content=content(instance=submission, name="After"), expected_version=1
        )
        assert (saved.name, saved.state) == ("After", State.CHANGES_REQUESTED)


class TestSubmit:
    def test_it_submits_a_complete_draft(self, founder):
        submission = make_submission(founder)
        submitted = workflow.submit(submission, by=founder, expected_version=1)
        assert submitted.state == State.SUBMITTED and submitted.submitted_at is not None
        assert submitted.version == 2
        assert actions(submitted) == [("submit", "draft", "submitted")]

    def test_it_refuses_an_incomplete_draft_and_names_the_fields(self, founder):
        submission = make_submission(founder, tagline="", track_slug=None)
        with pytest.raises(TransitionError) as refused:
            workflow.submit(submission, by=founder)
        assert set(refused.value.errors) == {"tagline", "track"}
        submission.refresh_from_db()
        assert submission.state == State.DRAFT

    def test_it_resubmits_after_changes_were_requested(self, founder):
        submission = make_submission(founder, state=State.CHANGES_REQUESTED)
        assert workflow.submit(submission, by=founder).state == State.SUBMITTED

    @pytest.mark.parametrize(
        "state",
        [State.SUBMITTED, State.IN_REVIEW, State.APPROVED, State.PUBLISHED, State.REJECTED, State.WITHDRAWN],
    )
    def test_it_refuses_to_submit_from_other_states(self, founder, state):
        submission = make_submission(founder, state=state)
        with pytest.raises(TransitionError, match="so you cannot submit it"):
            workflow.submit(submission, by=founder)
        submission.refresh_from_db()
        assert submission.state == state and not submission.events.exists()

    def test_it_refuses_another_founder(self, founder, other_founder):
        submission = make_submission(founder)
        with pytest.raises(TransitionError):
            workflow.submit(submission, by=other_founder)
        submission.refresh_from_db()
        assert submission.state == State.DRAFT

    def test_save_and_submit_is_all_or_nothing(self, founder):
        submission = make_submission(founder, name="Kept", tagline="Kept tagline")
        form = content(instance=submission, name="Changed", tagline="")  # a draft form: tagline may be empty
        with pytest.raises(TransitionError):
            workflow.save_and_submit(submission, by=founder, content=form, expected_version=1)
        submission.refresh_from_db()
        assert (submission.name, submission.state, submission.version) == ("Kept", State.DRAFT, 1)


class TestWithdraw:
    @pytest.mark.parametrize(
        "state", [State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED]
    )
    def test_it_withdraws_before_publication(self, founder, state):
        submission = make_submission(founder, state=state)
        withdrawn = workflow.withdraw(submission, by=founder, reason="We pivoted.")
        assert withdrawn.state == State.WITHDRAWN
        assert list(withdrawn.events.values_list("action", "note")) == [("withdraw", "We pivoted.")]

    @pytest.mark.parametrize("state", [State.PUBLISHED, State.REJECTED, State.WITHDRAWN])
    def test_it_refuses_after_the_end(self, founder, state):
        submission = make_submission(founder, state=state)
        with pytest.raises(TransitionError, match="so you cannot withdraw it"):
            workflow.withdraw(submission, by=founder, reason="Too late")

    def test_it_requires_a_reason(self, founder):
        submission = make_submission(founder)
        with pytest.raises(TransitionError, match="Give a reason"):
            workflow.withdraw(submission, by=founder, reason="   ")
        submission.refresh_from_db()
        assert submission.state == State.DRAFT


class TestUpdatesAndClaims:
    def test_the_owner_proposes_an_update_prefilled_from_the_live_listing(self, founder):
        project = make_project(owner=founder, name="Live name", organization="Live Org", secondary=["coding"])
        submission = workflow.start_update(
            project, by=founder, content=content(name="Proposed name", track="agents")
        )
        assert (submission.kind, submission.project, submission.state) == ("update", project, State.DRAFT)
        assert submission.name == "Proposed name"
        project.refresh_from_db()
        assert project.name == "Live name"

    def test_only_the_owner_proposes_updates(self, founder, other_founder):
        project = make_project(owner=founder)
        with pytest.raises(TransitionError, match="owner"):
            workflow.start_update(project, by=other_founder, content=content(name="Hijack"))
        assert not Submission.objects.exists()

    def test_a_project_has_at_most_one_open_submission(self, founder):
        project = make_project(owner=founder)
        workflow.start_update(project, by=founder, content=content(name="First"))
        with pytest.raises(TransitionError, match="already has an open submission"):
            workflow.start_update(project, by=founder, content=content(name="Second"))
        assert project.submissions.count() == 1

    def test_the_database_itself_refuses_a_second_open_submission(self, founder, other_founder):
        project = make_project()
        make_submission(founder, kind="claim", project=project, state=State.SUBMITTED)
        with pytest.raises(IntegrityError), transaction.atomic():
            make_submission(other_founder, kind="claim", project=project, state=State.DRAFT)

    def test_a_closed_submission_frees_the_project(self, founder):
        project = make_project(owner=founder)
        make_submission(founder, kind="update", project=project, state=State.WITHDRAWN)
        make_submission(founder, kind="update", project=project, state=State.PUBLISHED)
        assert workflow.start_update(project, by=founder, content=content(name="Again")).is_open

    def test_a_founder_claims_an_unowned_listing(self, founder):
        project = make_project(listed_by="editors", name="Imported")
        submission = workflow.claim(project, by=founder, evidence="I am ceo@imported.example")
        assert (submission.kind, submission.state, submission.name) == ("claim", State.SUBMITTED, "Imported")
        assert submission.claim_evidence == "I am ceo@imported.example"
        project.refresh_from_db()
        assert project.owner is None  # ownership changes only when the claim is published

    def test_an_owned_listing_cannot_be_claimed(self, founder, other_founder):
        project = make_project(owner=founder)
        with pytest.raises(TransitionError, match="already has an owner"):
            workflow.claim(project, by=other_founder, evidence="It is mine")

    def test_a_claim_needs_evidence(self, founder):
        with pytest.raises(TransitionError):
            workflow.claim(make_project(), by=founder, evidence="  ")
        assert not Submission.objects.exists()

    def test_an_unpublished_listing_cannot_be_claimed(self, founder):
        with pytest.raises(TransitionError, match="public map"):
            workflow.claim(make_project(published=False), by=founder, evidence="mine")


def test_events_are_append_only(founder):
    submission = workflow.create(by=founder, content=content(name="x"))
    event = submission.events.get()
    event.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
