"""review.mailqueue: every email goes through the task framework, with retries and, after the
last one, a trace. Here tasks run at once (tests/settings.py: Django's ImmediateBackend, so
the retries follow each other without waiting); tests/review/test_task_worker.py runs the
real worker process."""

import json

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings

from review import mailqueue, workflow
from review.models import Event
from tests.base import make_project, make_user
from tests.review.workflow_builders import make_editor

pytestmark = pytest.mark.django_db


class FlakyBackend(BaseEmailBackend):
    """A mail server that refuses the first `failures` connections, then accepts."""

    failures = 0
    tried = 0

    def send_messages(self, email_messages):
        FlakyBackend.tried += 1
        if FlakyBackend.tried <= FlakyBackend.failures:
            raise ConnectionRefusedError("the mail server is down")
        mail.outbox.extend(email_messages)
        return len(email_messages)


FLAKY = {"default": {"BACKEND": f"{__name__}.FlakyBackend"}}


@pytest.fixture
def flaky():
    def down_for(failures):
        FlakyBackend.failures, FlakyBackend.tried = failures, 0

    with override_settings(MAILERS=FLAKY, MAIL_ATTEMPTS=3, MAIL_RETRY_SECONDS=60):
        yield down_for


def take_down(django_capture_on_commit_callbacks):
    founder = make_user(email="founder@example.com")
    project = make_project(owner=founder, name="Flaky Project")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        workflow.unpublish(project, by=make_editor(), reason="Gone.")
    return callbacks


def test_a_refused_email_is_tried_again_and_goes(flaky, django_capture_on_commit_callbacks):
    flaky(2)
    callbacks = take_down(django_capture_on_commit_callbacks)
    # enqueued once the decision committed (beside it: the download files' refresh)
    assert [callback.__module__ for callback in callbacks].count("review.mailqueue") == 1
    assert FlakyBackend.tried == 3
    (sent,) = mail.outbox
    assert sent.to == ["founder@example.com"] and "Flaky Project" in sent.body
    assert not Event.objects.filter(action="mail_failed").exists()


def test_after_the_last_attempt_the_failure_is_recorded_once(flaky, django_capture_on_commit_callbacks):
    flaky(10)
    take_down(django_capture_on_commit_callbacks)
    assert FlakyBackend.tried == 3 and mail.outbox == []
    (failed,) = Event.objects.filter(action="mail_failed")
    assert failed.detail.startswith("unpublish email to founder@example.com failed:")
    assert failed.project.name == "Flaky Project" and failed.actor is None


def test_nothing_is_rendered_or_sent_for_a_decision_rolled_back(flaky, monkeypatch):
    from review import emails

    rendered = []
    monkeypatch.setattr(emails, "render", lambda *args: rendered.append(args))
    flaky(0)
    founder = make_user(email="founder@example.com")
    project = make_project(owner=founder)
    # the test's transaction never commits: the decision's on-commit work never happens
    workflow.unpublish(project, by=make_editor(), reason="Gone.")
    assert rendered == [] and mail.outbox == [] and FlakyBackend.tried == 0


def test_the_queued_message_is_what_was_rendered():
    message = EmailMultiAlternatives(
        "主题 Subject", "正文", "from@example.com", ["to@example.com"], cc=["cc@example.com"],
        bcc=["bcc@example.com"], reply_to=["review@example.org"], headers={"X-Test": "1"},
    )  # fmt: skip
    message.attach_alternative("<p>正文</p>", "text/html")
    data = json.loads(json.dumps(mailqueue.as_data(message)))  # what the task's row holds
    again = mailqueue.from_data(data)

    def parts(m):
        return (m.subject, m.body, m.from_email, m.to, m.cc, m.bcc, m.reply_to, m.extra_headers,
                [(str(content), mimetype) for content, mimetype in m.alternatives])  # fmt: skip

    assert parts(again) == parts(message)
    assert again.message()["Reply-To"] == "review@example.org" and again.message()["X-Test"] == "1"
