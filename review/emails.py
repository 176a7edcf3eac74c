"""Decision emails to founders: subject, text and HTML templates, in the founder's language.

Rendered once the decision has committed and sent by the task worker
(review.mailqueue): a failing mail server never undoes a decision; after the last retry the
failure is recorded as an internal Event (review.audit) that staff see in the admin.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from review import mailqueue

DECISIONS = {"request_changes", "approve", "reject", "publish", "unpublish"}


def render(action, context, language):
    """(subject, text, html) of the email for `action`, in `language`."""
    with translation.override(language):
        subject = render_to_string(f"emails/{action}_subject.txt", context).strip()
        text = render_to_string(f"emails/{action}.txt", context)
        html = render_to_string(f"emails/{action}.html", context)
    return " ".join(subject.split()), text, html


def notify_founder(*, action, submission=None, project=None, recipient, actor, note="", language=None):
    """Queue the email for `action` to `recipient`, enqueued once the transaction commits.

    `note` is the text meant for the founder (a comment or a reason); internal notes
    are never passed here. Nobody is emailed about their own action.
    """
    if action not in DECISIONS or recipient is None or not recipient.email:
        return
    if actor is not None and actor.pk == recipient.pk:
        return
    language = language or (submission.language if submission else settings.LANGUAGE_CODE)
    context = {
        "action": action,
        "submission": submission,
        "project": project,
        "note": note,
        "site_url": settings.SITE_URL,
        "contact_email": settings.CONTACT_EMAIL,
    }

    def message():
        subject, text, html = render(action, context, language)
        # Replies reach the association (CONTACT_EMAIL), not the no-reply sender.
        reply_to = [settings.CONTACT_EMAIL] if settings.CONTACT_EMAIL else None
        message = EmailMultiAlternatives(subject, text, to=[recipient.email], reply_to=reply_to)
        message.attach_alternative(html, "text/html")
        return message

    failure = {
        "action": action,
        "submission": submission.pk if submission else None,
        "project": project.pk if project and submission is None else None,
    }
    mailqueue.enqueue(message, failure=failure)


def request_confirmation(project, *, link, language):
    """Queue the yearly "still operating?" email to the owner of `project`, with its signed
    confirmation `link` (review.lifecycle), once the transaction commits."""
    owner = project.owner
    if owner is None or not owner.email:
        return
    context = {
        "project": project,
        "link": link,
        "link_days": settings.CONFIRMATION_LINK_DAYS,
        "site_url": settings.SITE_URL,
        "contact_email": settings.CONTACT_EMAIL,
    }

    def message():
        subject, text, html = render("confirm", context, language)
        reply_to = [settings.CONTACT_EMAIL] if settings.CONTACT_EMAIL else None
        message = EmailMultiAlternatives(subject, text, to=[owner.email], reply_to=reply_to)
        message.attach_alternative(html, "text/html")
        return message

    mailqueue.enqueue(message, failure={"action": "confirm", "submission": None, "project": project.pk})
