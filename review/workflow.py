"""Every change of a submission's state, and every Event, happens here and nowhere else.

Each function takes the object first and the actor by keyword, runs in one
transaction, locks the submission's row, checks who is acting and the current state,
raises `TransitionError` with a message a person can read, and writes an Event.
Founder views, the admin and management commands all call these functions.

Content is written by a `content` object with a `write_to(submission)` method (the
submission form): the workflow decides *whether* content may be written, the form
knows *what* it is.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.listing import Listing, copy_listing
from review.models import Event, Submission

State = Submission.State
Kind = Submission.Kind

# What must be filled in before a submission can be submitted: what the listing requires.
REQUIRED_TO_SUBMIT = tuple(field.name for field in Listing._meta.local_fields if not field.blank)


class TransitionError(Exception):
    """A transition that is not allowed now, or not by this person. Nothing was changed."""

    def __init__(self, message, *, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class StaleSubmission(TransitionError):
    """The submission changed since the form was opened."""


def _lock(submission):
    """The submission's current row, locked until the transaction ends."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def _check_owner(submission, by):
    if submission.owner_id != by.pk:
        raise TransitionError(_("Only the founder who made this submission can do that."))


def _check_version(submission, expected_version):
    if expected_version is not None and submission.version != expected_version:
        raise StaleSubmission(
            _(
                "This submission was changed since you opened it (in another tab or by a reviewer). "
                "Nothing was saved: reload it to see the current version."
            )
        )


def _record(submission, *, by, action, from_state="", to_state="", note=""):
    return Event.objects.create(
        submission=submission, actor=by, action=action, from_state=from_state, to_state=to_state, note=note
    )


def _move(submission, *, by, action, to_state, note="", **changes):
    """Set the new state (and any other fields), bump the version, write the Event."""
    from_state = submission.state
    submission.state = to_state
    submission.version += 1
    for name, value in changes.items():
        setattr(submission, name, value)
    submission.save(update_fields=["state", "version", "updated_at", *changes])
    _record(submission, by=by, action=action, from_state=from_state, to_state=to_state, note=note)
    return submission


def _save_new(submission):
    """Insert a submission; the database refuses a second open one for a project."""
    try:
        with transaction.atomic():
            submission.save()
    except IntegrityError:
        if submission.project_id and Submission.objects.open().filter(project=submission.project_id).exists():
            raise TransitionError(
                _("This project already has an open submission: finish or withdraw that one first.")
            ) from None
        raise


def missing_for_submission(submission):
    """{field: message} for what stops `submission` from being submitted (empty when ready)."""
    errors = {}
    for name in REQUIRED_TO_SUBMIT:
        value = getattr(submission, Submission._meta.get_field(name).attname)
        if value is None or str(value) == "":
            errors[name] = _("This field is required to submit.")
    if submission.kind == Kind.CLAIM and not submission.claim_evidence.strip():
        errors["claim_evidence"] = _("Tell the association how it can verify that you run this project.")
    return errors


# --- Founders ------------------------------------------------------------------


@transaction.atomic
def create(*, by, content, kind=Kind.NEW, project=None):
    """A new draft by founder `by`, its content written by `content`."""
    open_drafts = Submission.objects.owned_by(by).filter(state=State.DRAFT).count()
    if open_drafts >= settings.MAX_OPEN_DRAFTS:
        raise TransitionError(
            _("You already have %(count)s drafts open. Submit or withdraw one before starting another.")
            % {"count": open_drafts}
        )
    submission = Submission(owner=by, kind=kind, project=project, state=State.DRAFT)
    if project is not None:
        copy_listing(project, submission)
    content.write_to(submission, save=_save_new)
    _record(submission, by=by, action="create", to_state=State.DRAFT)
    return submission


@transaction.atomic
def start_update(project, *, by, content):
    """The owner of a published project proposes changes: a new `update` draft."""
    if project.owner_id != by.pk:
        raise TransitionError(_("Only the project's owner can propose changes to it."))
    return create(by=by, content=content, kind=Kind.UPDATE, project=project)


@transaction.atomic
def claim(project, *, by, evidence):
    """A founder claims an unowned listing: a `claim` submission, submitted at once."""
    if project.owner_id is not None:
        raise TransitionError(_("This project already has an owner; it cannot be claimed."))
    if not project.is_public:
        raise TransitionError(_("Only listings on the public map can be claimed."))
    if not evidence.strip():
        raise TransitionError(
            _("Tell the association how it can verify that you run this project."),
            errors={"claim_evidence": _("This field is required.")},
        )
    submission = Submission(owner=by, kind=Kind.CLAIM, project=project, state=State.SUBMITTED)
    copy_listing(project, submission)
    submission.claim_evidence = evidence.strip()
    submission.submitted_at = timezone.now()
    _save_new(submission)
    submission.secondary_tracks.set(project.secondary_tracks.all())
    _record(submission, by=by, action="create", to_state=State.SUBMITTED, note=submission.claim_evidence)
    return submission


@transaction.atomic
def save_draft(submission, *, by, content, expected_version):
    """Write new content onto a draft (or a submission sent back for changes)."""
    locked = _lock(submission)
    _check_owner(locked, by)
    _check_version(locked, expected_version)
    if not locked.is_editable:
        raise TransitionError(
            _("A submission that is %(state)s cannot be edited.") % {"state": locked.get_state_display()}
        )
    content.write_to(locked, save=lambda s: s.save())
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    _record(locked, by=by, action="edit", from_state=locked.state, to_state=locked.state)
    return locked


@transaction.atomic
def submit(submission, *, by, expected_version=None):
    """Send a complete draft, or a revised one, to the association."""
    locked = _lock(submission)
    _check_owner(locked, by)
    _check_version(locked, expected_version)
    if not locked.is_editable:
        raise TransitionError(
            _("A submission that is %(state)s cannot be submitted.") % {"state": locked.get_state_display()}
        )
    errors = missing_for_submission(locked)
    if errors:
        raise TransitionError(_("Some required fields are empty."), errors=errors)
    return _move(locked, by=by, action="submit", to_state=State.SUBMITTED, submitted_at=timezone.now())


@transaction.atomic
def save_and_submit(submission, *, by, content, expected_version):
    """Save the form's content and submit, as one step: both happen or neither."""
    saved = save_draft(submission, by=by, content=content, expected_version=expected_version)
    return submit(saved, by=by)


@transaction.atomic
def create_and_submit(*, by, content, kind=Kind.NEW, project=None):
    created = create(by=by, content=content, kind=kind, project=project)
    return submit(created, by=by)


@transaction.atomic
def withdraw(submission, *, by, reason, expected_version=None):
    """The founder takes back a submission that is not published yet."""
    locked = _lock(submission)
    _check_owner(locked, by)
    _check_version(locked, expected_version)
    if not locked.is_open:
        raise TransitionError(
            _("A submission that is %(state)s cannot be withdrawn.") % {"state": locked.get_state_display()}
        )
    if not reason.strip():
        raise TransitionError(
            _("Say briefly why you withdraw it."), errors={"reason": _("This field is required.")}
        )
    return _move(locked, by=by, action="withdraw", to_state=State.WITHDRAWN, note=reason.strip())
