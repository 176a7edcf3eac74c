"""The founder's dashboard tells the truth: each project's public state apart from its
submission's, the take-down reason on /my/; emails say how to reply and whom it reaches."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from registry.models import Project
from review import workflow
from tests.base import make_project
from tests.review.workflow_builders import make_editor, make_reviewer, published

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def state_of(text, name):
    return text.split(name)[0].rsplit('data-public-state="', 1)[1].split('"')[0]


def test_each_project_shows_its_public_state(founder_client, founder):
    make_project(owner=founder, name="Public One")
    make_project(owner=founder, name="Later One", published_at=timezone.now() + timedelta(days=3))
    make_project(owner=founder, name="Never One", published=False)
    down = make_project(owner=founder, name="Down One")
    workflow.unpublish(down, by=make_editor(), reason="The website has been offline for months.")
    text = founder_client.get("/my/", headers=EN).text
    assert state_of(text, "Public One") == "public" and "On the map" in text
    assert state_of(text, "Later One") == "scheduled" and "Scheduled for" in text
    assert state_of(text, "Never One") == "never" and "Never published" in text
    assert state_of(text, "Down One") == "taken_down"
    assert "Taken down on" in text
    assert "The editors’ reason: The website has been offline for months." in text


def test_a_published_submission_of_a_project_taken_down_does_not_say_it_is_on_the_map(
    founder_client, founder
):
    editor, reviewer = make_editor(), make_reviewer()
    submission = published(founder, editor=editor, reviewer=reviewer, name="Taken Down Later")
    workflow.unpublish(submission.project, by=editor, reason="Duplicate of another listing.")
    text = founder_client.get("/my/", headers=EN).text
    row = text.split('class="submission-row"')[1].split("</tr>")[0]
    assert "Published on the map." not in row
    assert "Published, but the project is taken down now" in row, row
    assert Project.objects.get(pk=submission.project_id).public_state == "taken_down"


@pytest.mark.parametrize("contact", ["review@map.example.org", ""])
def test_decision_emails_reply_to_the_association(
    settings, founder, django_capture_on_commit_callbacks, contact
):
    settings.CONTACT_EMAIL = contact
    editor, reviewer = make_editor(), make_reviewer()
    with django_capture_on_commit_callbacks(execute=True):
        submission = published(founder, editor=editor, reviewer=reviewer, name="Mailed")
        workflow.unpublish(submission.project, by=editor, reason="Closed down.")
    assert mail.outbox
    # The founder's language (the submission's: Chinese here).
    for message in mail.outbox:
        assert message.reply_to == ([contact] if contact else [])
        html = message.alternatives[0][0]
        if contact:
            assert f"邮件将送达协会（{contact}）" in message.body and contact in html
        else:
            assert "送达协会" not in message.body and "回复此邮件" not in message.body
    unpublished = mail.outbox[-1]
    assert ("回复此邮件" in unpublished.body) == bool(contact)  # asks for a reply only when one arrives
    assert contact or "请写信给协会" in unpublished.body
