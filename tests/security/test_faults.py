"""Faults in the middle of a decision: an exception inside publishing leaves nothing
half-published (raised inside the transaction, after the project was written).
(A failing mail server is tested in tests/review/test_review_rules.py::TestFailingMail;
the database going away in tests/security/test_deploy_and_errors.py.)"""

from unittest import mock

import pytest

from registry.models import Project
from review import workflow
from review.models import Event, Submission
from tests.base import make_project, make_submission, make_user
from tests.review.workflow_builders import approved, make_editor, make_reviewer, review

pytestmark = pytest.mark.django_db
State = Submission.State


def crash_after_writing(real_move):
    """_move runs after publishing.write_project has written the Project: fail there."""

    def move(submission, **kwargs):
        if kwargs.get("action") == "publish":
            assert Project.objects.filter(pk=kwargs["project"].pk).exists()  # it was written...
            raise RuntimeError("power cut")
        return real_move(submission, **kwargs)

    return move


@pytest.fixture
def people(db):
    return make_user(), make_editor(), make_reviewer()


def test_a_crash_while_publishing_a_new_project_leaves_no_project(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    founder, editor, reviewer = people
    submission = approved(founder, editor=editor, reviewer=reviewer, name="Half Lark")
    events = Event.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        mock.patch.object(workflow, "_move", crash_after_writing(workflow._move)),
        pytest.raises(RuntimeError),
    ):
        workflow.publish(submission, by=editor)

    submission.refresh_from_db()
    assert submission.state == State.APPROVED and submission.project is None
    assert not Project.objects.filter(name="Half Lark").exists()
    assert Event.objects.count() == events and callbacks == [] and mailoutbox == []


def test_a_crash_while_publishing_an_update_leaves_the_live_listing_as_it_was(
    people, django_capture_on_commit_callbacks
):
    founder, editor, reviewer = people
    project = make_project(name="Live Lark", tagline="live tagline", owner=founder)
    update = make_submission(founder, kind="update", project=project, name="Live Lark", tagline="new tagline")
    update = workflow.submit(update, by=founder)
    update = workflow.assign(update, by=editor, reviewer=reviewer)
    review(update, reviewer, "approve")
    update = workflow.approve(Submission.objects.get(pk=update.pk), by=editor)

    with (
        mock.patch.object(workflow, "_move", crash_after_writing(workflow._move)),
        pytest.raises(RuntimeError),
    ):
        workflow.publish(update, by=editor)

    project.refresh_from_db()
    update.refresh_from_db()
    assert project.tagline == "live tagline" and update.state == State.APPROVED
