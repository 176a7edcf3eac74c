"""Every change of a submission's state happens here and nowhere else; so do the
publication changes of a project on the map (unpublish, republish).

`TRANSITIONS` is the whole table: for each action, the states it may start from, the
state it leads to, who may take it, and whether a reason is required. Each function
takes the object first and the actor by keyword, runs in one transaction, locks the
row, checks the role (review.roles: conflicted people have none), the state and the
version, raises `TransitionError` with a message a person can read, writes an Event
through review.audit (the audit trail's one door), and queues the founder's email for
after the commit (review.emails). Founder views, the admin and management commands all
call these functions. The other changes to a listing on the map have their own review
functions beside this module: review.listings (featuring, editors' edits in the admin)
and review.importing (the long list).

Content is written by a `content` object with a `write_to(submission, *, save)` method
(the submission form): the workflow decides *whether* content may be written, the
form knows *what* it is.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from registry.listing import END_STATE_FIELDS, FOUNDER_REQUIRED, Listing, copy_listing, end_state_errors
from registry.models import Project
from review import audit, emails, publishing
from review.models import Conflict, Event, Review, Submission
from review.roles import (
    ASSIGNED,
    EDITOR,
    FOUNDER,
    REVIEWER,
    is_conflicted,
    is_conflicted_with_project,
    is_editor,
    is_reviewer,
    is_staff_member,
    roles,
)

# The security log by name (aimap.logs formats it): review imports nothing from aimap.
security_log = logging.getLogger("aimap.security")

State = Submission.State
Kind = Submission.Kind

# What must be filled in before a submission can be submitted: what the listing requires.
REQUIRED_TO_SUBMIT = (
    *(field.name for field in Listing._meta.local_fields if not field.blank),
    *FOUNDER_REQUIRED,
)


@dataclass(frozen=True)
class Rule:
    sources: frozenset
    target: str
    who: frozenset
    needs_reason: bool = False
    label: str = ""


TRANSITIONS = {
    "submit": Rule(
        frozenset({State.DRAFT, State.CHANGES_REQUESTED}), State.SUBMITTED, frozenset({FOUNDER}),
        label=gettext_lazy("submit"),
    ),
    "withdraw": Rule(
        frozenset(Submission.OPEN_STATES), State.WITHDRAWN, frozenset({FOUNDER}), needs_reason=True,
        label=gettext_lazy("withdraw"),
    ),
    "start_review": Rule(
        frozenset({State.SUBMITTED}), State.IN_REVIEW, frozenset({REVIEWER, EDITOR}),
        label=gettext_lazy("start the review of"),
    ),
    "request_changes": Rule(
        frozenset({State.IN_REVIEW}), State.CHANGES_REQUESTED, frozenset({ASSIGNED, EDITOR}), needs_reason=True,
        label=gettext_lazy("request changes to"),
    ),
    "approve": Rule(
        frozenset({State.IN_REVIEW}), State.APPROVED, frozenset({ASSIGNED, EDITOR}),
        label=gettext_lazy("approve"),
    ),
    "reject": Rule(
        frozenset({State.IN_REVIEW}), State.REJECTED, frozenset({ASSIGNED, EDITOR}), needs_reason=True,
        label=gettext_lazy("reject"),
    ),
    "publish": Rule(
        frozenset({State.APPROVED}), State.PUBLISHED, frozenset({EDITOR}),
        label=gettext_lazy("publish"),
    ),
}  # fmt: skip

ROLE_NAMES = {
    FOUNDER: gettext_lazy("the founder who made it"),
    REVIEWER: gettext_lazy("a reviewer"),
    ASSIGNED: gettext_lazy("an assigned reviewer"),
    EDITOR: gettext_lazy("an editor"),
}


class TransitionError(Exception):
    """A transition that is not allowed now, or not by this person. Nothing was changed."""

    def __init__(self, message, *, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class StaleSubmission(TransitionError):
    """The submission changed since the form was opened."""


class SaveLimitError(TransitionError):
    """A founder saved more often than SUBMISSION_SAVES_PER_HOUR allows (the views answer 429)."""


def _language():
    """The language the founder is using now: their decision emails will be in it."""
    current = get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    return current if current in codes else settings.LANGUAGE_CODE


def _lock(submission):
    """The submission's current row, locked until the transaction ends."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def check(action, submission, by, *, reason=None, held=None):
    """Raise TransitionError unless `by` may take `action` on `submission` now.
    `held`: `by`'s roles for it, when the caller has them already."""
    rule = TRANSITIONS[action]
    if submission.state not in rule.sources:
        raise TransitionError(
            _("This submission is %(state)s, so you cannot %(action)s it.")
            % {"state": submission.get_state_display().lower(), "action": rule.label}
        )
    held = roles(by, submission) if held is None else held
    if not held & rule.who:
        if is_staff_member(by) and is_conflicted(by, submission):
            raise TransitionError(
                _(
                    "You are the founder of this submission or declared a conflict of interest with it, "
                    "so you cannot review or decide it."
                )
            )
        who = sorted(str(ROLE_NAMES[role]) for role in rule.who)
        raise TransitionError(
            _("Only %(who)s can %(action)s this submission.")
            % {"who": _(" or ").join(who), "action": rule.label}
        )
    if rule.needs_reason and reason is not None and not reason.strip():
        raise TransitionError(
            _("Give a reason: the founder will read it."), errors={"reason": _("This field is required.")}
        )
    if action == "approve":
        _check_approvals(submission, by)


def _check_approvals(submission, by):
    approvals = _approvals(submission)
    required, count = settings.REVIEW_APPROVALS_REQUIRED, len(approvals)
    if count < required:
        raise TransitionError(
            _(
                "Approval needs %(required)s approving review(s) from reviewers without a conflict; "
                "this submission has %(count)s."
            )
            % {"required": required, "count": count}
        )
    # Two people at least (docs/decisions/0019): a reviewer who took the submission on
    # themself cannot approve it on their own approving review alone; an editor decides then,
    # or another reviewer's approving review is there too.
    others = [review for review in approvals if by is None or review.reviewer_id != by.pk]
    if by is not None and not is_editor(by) and not others and _self_assigned(submission, by):
        raise TransitionError(
            _(
                "You took this submission on yourself: your own approving review alone cannot "
                "approve it. An editor decides, or another reviewer's approving review is needed."
            )
        )


def _self_assigned(submission, reviewer):
    """Whether `reviewer` is on `submission` by their own start_review, no editor having
    assigned them."""
    events = submission.events.filter(action__in=["start_review", "assign"])
    assigned_by_editor = events.filter(action="assign", detail=f"assigned {reviewer.get_username()}").exists()
    return not assigned_by_editor and events.filter(action="start_review", actor=reviewer).exists()


def allowed_actions(submission, by):
    """The transitions `by` may take on `submission` now (for buttons)."""
    held = roles(by, submission)
    allowed = []
    for action, rule in TRANSITIONS.items():
        if submission.state not in rule.sources or not held & rule.who:
            continue
        try:
            check(action, submission, by, held=held)
        except TransitionError:
            continue
        allowed.append(action)
    return allowed


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


def _record(
    submission, *, by, action, from_state="", to_state="", note="", detail="", project=None, changed_fields=()
):
    return audit.record(
        submission=submission,
        project=project,
        by=by,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        detail=detail,
        changed_fields=changed_fields,
    )


def _move(submission, *, by, action, to_state, note="", detail="", changed_fields=(), **changes):
    """Set the new state (and any other fields), bump the version, write the Event
    (`changed_fields`: the listing fields a publication changed on the project)."""
    from_state = submission.state
    submission.state = to_state
    submission.version += 1
    for name, value in changes.items():
        setattr(submission, name, value)
    submission.save(update_fields=["state", "version", "updated_at", *changes])
    _record(
        submission,
        by=by,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        detail=detail,
        changed_fields=changed_fields,
    )
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
    if submission.kind == Kind.CLAIM:  # a claim asks who runs the listing, nothing else
        if not submission.claim_evidence.strip():
            errors["claim_evidence"] = _("Tell the association how it can verify that you run this project.")
        return errors
    for name in REQUIRED_TO_SUBMIT:
        value = getattr(submission, Submission._meta.get_field(name).attname)
        if value is None or str(value) == "":
            errors[name] = _("This field is required to submit.")
    values = {name: getattr(submission, name) for name in ("status", "founded_year", *END_STATE_FIELDS)}
    for name, messages in end_state_errors(values, listing_pk=submission.project_id).items():
        errors.setdefault(name, messages[0])
    return errors


# --- Founders ------------------------------------------------------------------


@transaction.atomic
def _check_daily_limit(founder):
    """An abuse limit: at most MAX_SUBMISSIONS_PER_DAY submissions and claims in 24 hours."""
    since = timezone.now() - timedelta(hours=24)
    sent = Event.objects.filter(actor=founder, created_at__gte=since).filter(
        Q(action="submit") | Q(action="create", to_state=State.SUBMITTED)
    )
    if sent.count() >= settings.MAX_SUBMISSIONS_PER_DAY:
        security_log.warning(
            "daily submission limit reached", extra={"event": "submission_limit", "actor": founder.pk}
        )
        raise TransitionError(
            _(
                "You have sent %(count)s submissions in the last 24 hours, the most we accept in a day. "
                "Nothing is lost: your draft is saved, send it tomorrow."
            )
            % {"count": settings.MAX_SUBMISSIONS_PER_DAY}
        )


def _check_drafts_started(founder):
    """An abuse limit: at most MAX_NEW_DRAFTS_PER_DAY drafts started in 24 hours, whatever
    became of them (withdrawing one does not give a start back: decision 0021)."""
    since = timezone.now() - timedelta(hours=24)
    started = Event.objects.filter(
        actor=founder, action="create", to_state=State.DRAFT, created_at__gte=since
    )
    if started.count() >= settings.MAX_NEW_DRAFTS_PER_DAY:
        security_log.warning("daily draft limit reached", extra={"event": "draft_limit", "actor": founder.pk})
        raise TransitionError(
            _(
                "You have started %(count)s drafts in the last 24 hours, withdrawn ones included: the "
                "most we accept in a day. Continue one of your drafts, or start this one tomorrow."
            )
            % {"count": settings.MAX_NEW_DRAFTS_PER_DAY}
        )


# What counts as a save: a form's content written onto a draft (started or saved again).
SAVE_ACTIONS = ("create", "edit")


def _lock_founder(founder):
    """Take one founder's saves one at a time, so that their limits count exactly."""
    list(get_user_model().objects.select_for_update().filter(pk=founder.pk).values_list("pk"))


def check_save_rate(founder):
    """An abuse limit: at most SUBMISSION_SAVES_PER_HOUR saves in the last hour, counted
    from the audit trail (every save writes a "create" or "edit" Event); raises
    SaveLimitError saying when the founder may save again."""
    limit = settings.SUBMISSION_SAVES_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    saves = Event.objects.filter(actor=founder, action__in=SAVE_ACTIONS, created_at__gte=since)
    latest = list(saves.order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(latest) < limit:
        return
    wait = latest[-1] + timedelta(hours=1) - timezone.now()
    security_log.warning("save limit reached", extra={"event": "save_limit", "actor": founder.pk})
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    raise SaveLimitError(
        ngettext(
            "You have saved %(count)s times in the last hour, the most we accept. Nothing was "
            "saved this time; what you typed is still below (choose the logo again if you had "
            "chosen one). You can save again in %(minutes)s minute.",
            "You have saved %(count)s times in the last hour, the most we accept. Nothing was "
            "saved this time; what you typed is still below (choose the logo again if you had "
            "chosen one). You can save again in %(minutes)s minutes.",
            minutes,
        )
        % {"count": limit, "minutes": minutes}
    )


def check_logo_fits(submission, size):
    """The storage quota: the logos of the founder's drafts and submissions awaiting review
    may take FOUNDER_STORAGE_MB together. Called before a new logo of `size` bytes (logo
    and thumbnail) is stored onto `submission`, in place of the one it holds."""
    limit = settings.FOUNDER_STORAGE_MB * 1024 * 1024
    others = Submission.objects.open().owned_by(submission.owner).exclude(pk=submission.pk)
    free = max(0, limit - others.storage_held())
    if size <= free:
        return
    security_log.warning(
        "storage quota reached", extra={"event": "storage_quota", "actor": submission.owner_id}
    )
    raise TransitionError(
        _("Nothing was saved: the logo does not fit in the storage your submissions may use."),
        errors={
            "logo": _(
                "This logo takes %(size)s KB once stored; %(free)s KB is left of the %(limit)s MB your "
                "drafts and submissions awaiting review may hold. Choose a simpler image, or remove "
                "the logo from another draft."
            )
            % {"size": math.ceil(size / 1024), "free": free // 1024, "limit": settings.FOUNDER_STORAGE_MB}
        },
    )


@transaction.atomic
def create(*, by, content, kind=Kind.NEW, project=None):
    """A new draft by founder `by`, its content written by `content`."""
    _lock_founder(by)
    check_save_rate(by)
    open_drafts = Submission.objects.owned_by(by).filter(state=State.DRAFT).count()
    if open_drafts >= settings.MAX_OPEN_DRAFTS:
        raise TransitionError(
            _("You already have %(count)s drafts open. Submit or withdraw one before starting another.")
            % {"count": open_drafts}
        )
    _check_drafts_started(by)
    submission = Submission(owner=by, kind=kind, project=project, state=State.DRAFT, language=_language())
    if project is not None:
        copy_listing(project, submission)
    content.write_to(submission, save=_save_new)
    _record(submission, by=by, action="create", to_state=State.DRAFT)
    return submission


@transaction.atomic
def start_update(project, *, by, content, and_submit=False):
    """The owner of a project proposes changes: a new `update` draft (submitted at once if asked)."""
    if project.owner_id != by.pk:
        raise TransitionError(_("Only the project's owner can propose changes to it."))
    created = create(by=by, content=content, kind=Kind.UPDATE, project=project)
    return submit(created, by=by) if and_submit else created


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
    _check_daily_limit(by)
    submission = Submission(
        owner=by, kind=Kind.CLAIM, project=project, state=State.SUBMITTED, language=_language()
    )
    copy_listing(project, submission)
    # The claimant is not the owner yet: a contact address the listing keeps hidden stays
    # hidden (the claim is about who runs it; its content is never taken from the claim).
    submission.contact_email, submission.show_contact_email = "", False
    submission.claim_evidence = evidence.strip()
    submission.submitted_at = timezone.now()
    _save_new(submission)
    submission.secondary_tracks.set(project.secondary_tracks.all())
    _record(submission, by=by, action="create", to_state=State.SUBMITTED, note=submission.claim_evidence)
    return submission


@transaction.atomic
def save_draft(submission, *, by, content, expected_version):
    """Write new content onto a draft (or a submission sent back for changes)."""
    _lock_founder(by)
    locked = _lock(submission)
    _check_owner(locked, by)
    _check_version(locked, expected_version)
    if not locked.is_editable:
        raise TransitionError(
            _("A submission that is %(state)s cannot be edited.") % {"state": locked.get_state_display()}
        )
    check_save_rate(by)
    content.write_to(locked, save=lambda s: s.save())
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    _record(locked, by=by, action="edit", from_state=locked.state, to_state=locked.state)
    return locked


@transaction.atomic
def submit(submission, *, by, expected_version=None):
    """Send a complete draft, or a revised one, to the association."""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    check("submit", locked, by)
    errors = missing_for_submission(locked)
    if errors:
        raise TransitionError(_("Some required fields are empty."), errors=errors)
    _check_daily_limit(by)
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
    _check_version(locked, expected_version)
    reason = reason or ""
    check("withdraw", locked, by, reason=reason)
    return _move(locked, by=by, action="withdraw", to_state=State.WITHDRAWN, note=reason.strip())


# --- The association ---------------------------------------------------------------


def _approvals(submission):
    """Approving reviews from reviewers who are not conflicted."""
    approving = submission.reviews.filter(recommendation=Review.Recommendation.APPROVE).select_related(
        "reviewer"
    )
    return [review for review in approving if not is_conflicted(review.reviewer, submission)]


@transaction.atomic
def start_review(submission, *, by, expected_version=None):
    """A reviewer takes a submitted one (and is assigned to it), or an editor opens its review."""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    check("start_review", locked, by)
    if is_reviewer(by):
        locked.reviewers.add(by)
    return _move(locked, by=by, action="start_review", to_state=State.IN_REVIEW)


@transaction.atomic
def assign(submission, *, by, reviewer, expected_version=None):
    """An editor assigns a reviewer; a submitted one goes into review."""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    if EDITOR not in roles(by, locked):
        raise TransitionError(_("Only an editor without a conflict can assign reviewers."))
    if locked.state not in (State.SUBMITTED, State.IN_REVIEW):
        raise TransitionError(
            _("This submission is %(state)s; reviewers are assigned while it is submitted or in review.")
            % {"state": locked.get_state_display().lower()}
        )
    if not is_reviewer(reviewer):
        raise TransitionError(_("%(name)s is not a reviewer.") % {"name": reviewer.get_username()})
    if is_conflicted(reviewer, locked):
        raise TransitionError(
            _("%(name)s has a conflict of interest with this submission and cannot review it.")
            % {"name": reviewer.get_username()}
        )
    locked.reviewers.add(reviewer)
    detail = f"assigned {reviewer.get_username()}"
    if locked.state == State.SUBMITTED:
        return _move(locked, by=by, action="assign", to_state=State.IN_REVIEW, detail=detail)
    _record(locked, by=by, action="assign", from_state=locked.state, to_state=locked.state, detail=detail)
    return locked


@transaction.atomic
def record_review(
    submission,
    *,
    by,
    authenticity,
    innovation,
    completeness,
    recommendation,
    comment="",
    internal_note="",
    expected_version=None,
):
    """An assigned reviewer's verdict (written again if they change their mind)."""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    if ASSIGNED not in roles(by, locked):
        if is_staff_member(by) and is_conflicted(by, locked):
            raise TransitionError(
                _("You have a conflict of interest with this submission and cannot review it.")
            )
        raise TransitionError(_("Only a reviewer assigned to this submission can review it."))
    if locked.state != State.IN_REVIEW:
        raise TransitionError(
            _("This submission is %(state)s; reviews are written while it is in review.")
            % {"state": locked.get_state_display().lower()}
        )
    scores = {"authenticity": authenticity, "innovation": innovation, "completeness": completeness}
    for name, score in scores.items():
        if score not in range(1, 6):
            raise TransitionError(
                _("Scores go from 1 to 5."), errors={name: _("Choose a score from 1 to 5.")}
            )
    if recommendation not in Review.Recommendation.values:
        raise TransitionError(_("Choose a recommendation."))
    review, _created = Review.objects.update_or_create(
        submission=locked,
        reviewer=by,
        defaults={
            **scores,
            "recommendation": recommendation,
            "comment": comment,
            "internal_note": internal_note,
        },
    )
    _record(
        locked, by=by, action="review", from_state=locked.state, to_state=locked.state, detail=recommendation
    )
    return review


def _founder_comments(submission, *, extra=""):
    """What the founder reads with a decision: the reviewers' comments and the decider's note."""
    parts = [review.comment.strip() for review in submission.reviews.all() if review.comment.strip()]
    if extra.strip():
        parts.append(extra.strip())
    return "\n\n".join(parts)


def _decide(action, submission, *, by, note, expected_version):
    note = note or ""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    check(action, locked, by, reason=note)
    rule = TRANSITIONS[action]
    # The founder reads the reviewers' comments with the decider's note, on /my/ and by email.
    founder_text = _founder_comments(locked, extra=note)
    moved = _move(locked, by=by, action=action, to_state=rule.target, note=founder_text)
    emails.notify_founder(action=action, submission=moved, recipient=moved.owner, actor=by, note=founder_text)
    return moved


@transaction.atomic
def request_changes(submission, *, by, comment, expected_version=None):
    return _decide("request_changes", submission, by=by, note=comment, expected_version=expected_version)


@transaction.atomic
def reject(submission, *, by, reason, expected_version=None):
    return _decide("reject", submission, by=by, note=reason, expected_version=expected_version)


@transaction.atomic
def approve(submission, *, by, note="", expected_version=None):
    approved = _decide("approve", submission, by=by, note=note, expected_version=expected_version)
    if settings.AUTO_PUBLISH:
        return _publish(approved, by=None, publish_at=approved.publish_at)
    return approved


@transaction.atomic
def publish(submission, *, by, publish_at=None, expected_version=None):
    """An editor publishes an approved submission: its content goes onto the registry."""
    locked = _lock(submission)
    _check_version(locked, expected_version)
    check("publish", locked, by)
    return _publish(locked, by=by, publish_at=publish_at or locked.publish_at)


def _publish(locked, *, by, publish_at):
    if publish_at is not None and locked.kind != Kind.NEW:
        raise TransitionError(
            _("Only new projects can be scheduled; updates and claims are published at once.")
        )
    project, changed_fields = publishing.write_project(locked, publish_at=publish_at)
    note = ""
    if publish_at and publish_at > timezone.now():
        note = _("Scheduled for %(when)s.") % {
            "when": timezone.localtime(publish_at).strftime("%Y-%m-%d %H:%M")
        }
    moved = _move(
        locked,
        by=by,
        action="publish",
        to_state=State.PUBLISHED,
        note=note,
        project=project,
        changed_fields=changed_fields,
    )
    emails.notify_founder(
        action="publish", submission=moved, project=project, recipient=moved.owner, actor=by
    )
    return moved


# --- Projects on the map --------------------------------------------------------------


def _owner_language(project):
    """The language of the owner's latest submission: the one they use with us."""
    latest = Submission.objects.filter(owner=project.owner_id).order_by("-updated_at", "-pk").first()
    return latest.language if latest else settings.LANGUAGE_CODE


def _lock_project(project):
    return Project.objects.select_for_update().get(pk=project.pk)


def _check_project_editor(by, project, reason):
    if not is_editor(by):
        raise TransitionError(_("Only an editor can publish or unpublish a project."))
    if is_conflicted_with_project(by, project):
        raise TransitionError(
            _(
                "You own this project or declared a conflict of interest with it, so another editor must decide."
            )
        )
    if not (reason or "").strip():
        raise TransitionError(
            _("Give a reason: it is kept in the audit trail."),
            errors={"reason": _("This field is required.")},
        )


@transaction.atomic
def unpublish(project, *, by, reason):
    """An editor takes a project off every public surface."""
    locked = _lock_project(project)
    _check_project_editor(by, locked, reason)
    if not locked.published:
        raise TransitionError(_("This project is not published."))
    locked.published = False
    locked.save(update_fields=["published", "updated_at"])
    _record(
        None, project=locked, by=by, action="unpublish", note=reason.strip(), changed_fields=["published"]
    )
    emails.notify_founder(
        action="unpublish", project=locked, recipient=locked.owner, actor=by, note=reason.strip(),
        language=_owner_language(locked),
    )  # fmt: skip
    return locked


@transaction.atomic
def republish(project, *, by, reason):
    """An editor puts an unpublished project on the map: back, or for the first time (an
    editors' listing imported unpublished)."""
    locked = _lock_project(project)
    _check_project_editor(by, locked, reason)
    if locked.published:
        raise TransitionError(_("This project is already published."))
    now = timezone.now()
    before = {name: getattr(locked, name) for name in Project.PUBLICATION_FIELDS}
    # back at its former publication time (its place in "newest" is kept), or now if it had none yet
    kept = locked.published_at if locked.published_at and locked.published_at <= now else None
    locked.publish(at=kept or now)
    locked.save(update_fields=[*Project.PUBLICATION_FIELDS, "updated_at"])
    changed = [name for name, value in before.items() if getattr(locked, name) != value]
    # the first publication of a listing imported unpublished, or a return to the map
    action = "republish" if before["first_published_at"] else "publish_listing"
    _record(None, project=locked, by=by, action=action, note=reason.strip(), changed_fields=changed)
    return locked


@transaction.atomic
def declare_conflict(*, by, reviewer, kind, project=None, submission=None, organization="", note=""):
    """A reviewer declares their own tie, or an editor declares one for a reviewer.
    The reviewer is taken off open submissions the conflict touches."""
    if by.pk != reviewer.pk and not is_editor(by):
        raise TransitionError(
            _("Reviewers declare their own conflicts; editors may declare them for anyone.")
        )
    if kind not in Conflict.Kind.values:
        raise TransitionError(_("Choose the type of the conflict."))
    if project is None and submission is None and not organization.strip():
        raise TransitionError(_("Name the project, the submission or the organisation the conflict is with."))
    conflict = Conflict.objects.create(
        reviewer=reviewer,
        kind=kind,
        project=project,
        submission=submission,
        organization=organization.strip(),
        note=note,
        declared_by=by,
    )
    for assigned in reviewer.assigned_submissions.open():
        if is_conflicted(reviewer, assigned):
            assigned.reviewers.remove(reviewer)
            _record(
                assigned, by=by, action="assign", from_state=assigned.state, to_state=assigned.state,
                detail=f"unassigned {reviewer.get_username()}: conflict declared",
            )  # fmt: skip
    return conflict
