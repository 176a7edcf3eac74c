"""Who someone is to a submission: founder, reviewer, assigned reviewer, editor.

A conflicted person (the founder, or anyone who declared a tie to the project, the
submission or its organisation) never has a reviewing or deciding role for it.
"""

from django.db.models import Q

from review.models import Conflict

REVIEWERS = "Reviewers"
EDITORS = "Editors"

FOUNDER = "founder"
REVIEWER = "reviewer"
ASSIGNED = "assigned reviewer"
EDITOR = "editor"


def _groups(user):
    if not hasattr(user, "_aimap_groups"):
        user._aimap_groups = (
            set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        )
    return user._aimap_groups


def is_editor(user):
    return user.is_active and user.is_staff and (user.is_superuser or EDITORS in _groups(user))


def is_reviewer(user):
    return user.is_active and user.is_staff and REVIEWERS in _groups(user)


def normalised_organization(name):
    return " ".join((name or "").split()).casefold()


def is_conflicted(user, submission):
    """The founder always is; so is anyone with a declared conflict touching it."""
    if submission.owner_id == user.pk:
        return True
    if submission.project_id and submission.project.owner_id == user.pk:
        return True
    subject = Q(submission=submission.pk)
    if submission.project_id:
        subject |= Q(project=submission.project_id)
    organization = normalised_organization(submission.organization)
    conflicts = Conflict.objects.filter(reviewer=user)
    if conflicts.filter(subject).exists():
        return True
    if organization:
        declared = conflicts.exclude(organization="").values_list("organization", flat=True)
        return any(normalised_organization(name) == organization for name in declared)
    return False


def roles(user, submission):
    """The set of roles `user` holds for `submission`."""
    held = set()
    if not user.is_authenticated:
        return held
    if submission.owner_id == user.pk:
        held.add(FOUNDER)
    if not (is_editor(user) or is_reviewer(user)) or is_conflicted(user, submission):
        return held
    if is_editor(user):
        held.add(EDITOR)
    if is_reviewer(user):
        held.add(REVIEWER)
        if submission.reviewers.filter(pk=user.pk).exists():
            held.add(ASSIGNED)
    return held
