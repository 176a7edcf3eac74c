"""Every email the site sends goes through here: rendered in the request, enqueued once the
transaction commits, sent by the task worker (Django's tasks framework; in production the
database backend of django-tasks-db and `manage.py db_worker`).

A mail server that is down never undoes a decision and never slows a request: the worker
tries again after MAIL_RETRY_SECONDS, doubling each time, MAIL_ATTEMPTS times in all; after
the last attempt the failure is logged and, for a decision email, recorded as an internal
`mail_failed` Event (review.audit) that staff see in the admin.

The queued message is plain JSON (subject, texts, addresses, headers), so that the worker
sends exactly what the request rendered, in the recipient's language.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task, task_backends
from django.utils import timezone

logger = logging.getLogger("aimap.review.emails")

FIELDS = ("subject", "body", "from_email", "to", "cc", "bcc", "reply_to", "extra_headers")


def as_data(message):
    """A message as JSON-ready data (text alternatives only: we attach no files)."""
    data = {name: getattr(message, name) for name in FIELDS}
    data["to"], data["cc"], data["bcc"], data["reply_to"] = (
        list(data["to"]), list(data["cc"]), list(data["bcc"]), list(data["reply_to"])
    )  # fmt: skip
    data["extra_headers"] = dict(data["extra_headers"])
    data["alternatives"] = [
        [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
    ]
    return data


def from_data(data):
    message = EmailMultiAlternatives(
        data["subject"], data["body"], data["from_email"], data["to"],
        bcc=data["bcc"], cc=data["cc"], reply_to=data["reply_to"], headers=data["extra_headers"],
    )  # fmt: skip
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def enqueue(message, *, failure=None):
    """Send `message` from the worker once the current transaction commits: an EmailMessage,
    or a function that renders one then (nothing is rendered for a transaction rolled back).
    `failure`: what to record if it never goes ({"action", "submission", "project"}: ids)."""

    def on_commit():
        send_later(message() if callable(message) else message, failure=failure)

    transaction.on_commit(on_commit)


def send_later(message, *, failure=None):
    """Enqueue `message` now (with the database backend, the task's row is written in the
    transaction open now, if any, and seen by the worker once it commits)."""
    return _enqueue(as_data(message), 1, failure)


def _enqueue(data, attempt, failure, delay_seconds=0):
    task_ = send_message
    if delay_seconds and task_backends[task_.backend].supports_defer:
        task_ = task_.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    return task_.enqueue(data, attempt=attempt, failure=failure)


@task()
def send_message(data, attempt=1, failure=None):
    """The worker's side: send, or enqueue the next attempt, or record that it never went."""
    try:
        sent = from_data(data).send()
    except Exception as error:  # any mail server trouble: retry, then leave a trace
        if attempt < settings.MAIL_ATTEMPTS:
            delay = settings.MAIL_RETRY_SECONDS * 2 ** (attempt - 1)
            logger.warning(
                "Email to %s failed (attempt %s of %s): %s; again in %s s",
                ", ".join(data["to"]), attempt, settings.MAIL_ATTEMPTS, error, delay,
            )  # fmt: skip
            _enqueue(data, attempt + 1, failure, delay)
            return "retry"
        logger.exception("Email to %s failed after %s attempts", ", ".join(data["to"]), attempt)
        if failure:
            _record_failure(failure, data, error)
        raise
    return "sent" if sent else "not sent"


def _record_failure(failure, data, error):
    from registry.models import Project
    from review import audit  # the one writer of Events
    from review.models import Submission

    submission = Submission.objects.filter(pk=failure.get("submission")).first()
    project = None if submission else Project.objects.filter(pk=failure.get("project")).first()
    audit.record(
        by=None,
        submission=submission,
        project=project,
        action="mail_failed",
        detail=f"{failure['action']} email to {', '.join(data['to'])} failed: {error}",
    )
