"""Who someone is to a submission: founder, reviewer, assigned reviewer, editor.

A conflicted person (the founder, or anyone who declared a tie to the project, the
submission or its organisation) never has a reviewing or deciding role for it.
"""

from django.db.models import Q

from registry.names import name_key
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


def is_staff_member(user):
    """A reviewer or an editor (the people conflicts are declared for)."""
    return is_editor(user) or is_reviewer(user)


# Legal forms that do not change who an organisation is ("Acme Robotics" and "Acme Robotics
# Co., Ltd." are one company), taken off the end of a name, repeatedly.
LEGAL_SUFFIXES = (
    "co", "co ltd", "company", "company limited", "corp", "corporation", "inc", "incorporated",
    "ltd", "limited", "llc", "llp", "lp", "plc", "gmbh", "ag", "sa", "sas", "sarl", "srl", "bv",
    "nv", "oy", "ab", "as", "kk", "pte", "pte ltd", "pty", "pty ltd", "oü", "ou",
    "有限公司", "有限责任公司", "股份有限公司", "集团", "公司", "株式会社",
)  # fmt: skip
_SUFFIXES_LONGEST_FIRST = sorted(LEGAL_SUFFIXES, key=len, reverse=True)
_PUNCTUATION = str.maketrans(dict.fromkeys(".,()（）、，·-–—&'\"/", " "))


def normalised_organization(name):
    """The key two spellings of one organisation share: the import's name key
    (registry.names: NFKC, case folding, white space), punctuation as space, legal forms
    taken off the end ("Acme Robotics Co., Ltd." is "acme robotics")."""
    text = " ".join(name_key(name).translate(_PUNCTUATION).split())
    changed = True
    while changed and text:
        changed = False
        for suffix in _SUFFIXES_LONGEST_FIRST:
            if text == suffix:
                break
            if text.endswith(" " + suffix) or (not suffix.isascii() and text.endswith(suffix)):
                text = text[: -len(suffix)].rstrip()
                changed = True
                break
    return text


def _declared(user, *, subject, organizations):
    """Whether `user` declared a conflict matching `subject` (a Q) or one of `organizations`."""
    conflicts = Conflict.objects.filter(reviewer=user)
    if conflicts.filter(subject).exists():
        return True
    wanted = {normalised_organization(name) for name in organizations} - {""}
    if not wanted:
        return False
    declared = conflicts.exclude(organization="").values_list("organization", flat=True)
    return any(normalised_organization(name) in wanted for name in declared)


def is_conflicted_with_project(user, project):
    """Its owner, or anyone who declared a tie to it or to its organisation."""
    if not user.is_authenticated:
        return False
    if project.owner_id == user.pk:
        return True
    return _declared(user, subject=Q(project=project.pk), organizations=[project.organization])


def may_change_project(user, project):
    """Editing, featuring or deleting a listing in the admin: not by its owner nor by anyone
    who declared a tie to it or its organisation (another editor does it)."""
    return not is_conflicted_with_project(user, project)


def conflicted_project_ids(user, projects):
    """The ids of `projects` (a queryset) that `user` may not change (may_change_project)."""
    if not user.is_authenticated:
        return set()
    conflicts = Conflict.objects.filter(reviewer=user)
    ids = set(
        projects.filter(Q(owner=user.pk) | Q(pk__in=conflicts.values("project"))).values_list("pk", flat=True)
    )
    declared = {
        normalised_organization(name) for name in conflicts.values_list("organization", flat=True)
    } - {""}
    if declared:
        rows = projects.exclude(organization="").values_list("pk", "organization")
        ids |= {pk for pk, name in rows if normalised_organization(name) in declared}
    return ids


def is_conflicted(user, submission):
    """The founder always is; so is anyone with a declared conflict touching it: the
    submission, its project, or its organisation (the proposed one or the live one)."""
    if not user.is_authenticated:
        return False
    if submission.owner_id == user.pk:
        return True
    subject = Q(submission=submission.pk)
    organizations = [submission.organization]
    if submission.project_id:
        project = submission.project
        if project.owner_id == user.pk:
            return True
        subject |= Q(project=project.pk)
        organizations.append(project.organization)
    return _declared(user, subject=subject, organizations=organizations)


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
