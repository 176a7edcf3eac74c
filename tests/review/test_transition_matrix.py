"""The whole transition table of PRODUCT.md ("Submission states"), state × action × person.

The expectation below is written out by hand from the brief, not derived from
`workflow.TRANSITIONS` or `workflow.check`: a wrong entry in the workflow's table makes
these tests fail. Each case builds one submission in one state, one person in one
role, calls the workflow function, and checks either the move (state, version, exactly
one Event naming the actor) or the refusal (TransitionError, nothing changed at all).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import override_settings
from django.utils import timezone

from registry.models import Project
from review import workflow
from review.models import Conflict, Event, Review, Submission
from review.workflow import TransitionError
from tests.base import make_project, make_submission, make_user
from tests.review.workflow_builders import make_staff, review

pytestmark = pytest.mark.django_db
State = Submission.State

DRAFT, SUBMITTED, IN_REVIEW = State.DRAFT, State.SUBMITTED, State.IN_REVIEW
CHANGES, APPROVED, PUBLISHED = State.CHANGES_REQUESTED, State.APPROVED, State.PUBLISHED
REJECTED, WITHDRAWN = State.REJECTED, State.WITHDRAWN
BEFORE_PUBLISH = {DRAFT, SUBMITTED, IN_REVIEW, CHANGES, APPROVED}

# --- The people -----------------------------------------------------------------------
OWNER = "owner"  # the founder who made the submission
OWNER_STAFF = "owner_also_editor_and_reviewer"  # the same, staff in both groups, even assigned
OTHER_FOUNDER = "other_founder"
REVIEWER = "reviewer_not_assigned"
ASSIGNED = "assigned_reviewer"
REVIEWER_CONFLICT_ORG = "assigned_reviewer_conflicted_org"  # conflict on the organisation
REVIEWER_CONFLICT_PROJECT = "assigned_reviewer_conflicted_project"  # conflict on the project
EDITOR = "editor"
EDITOR_CONFLICT_ORG = "editor_conflicted_org"
EDITOR_CONFLICT_PROJECT = "editor_conflicted_project"
SUPERUSER = "superuser"
INACTIVE = "inactive_staff"  # an editor and assigned reviewer whose account is deactivated
ANONYMOUS = "anonymous"

ROLES = [
    OWNER, OWNER_STAFF, OTHER_FOUNDER, REVIEWER, ASSIGNED, REVIEWER_CONFLICT_ORG,
    REVIEWER_CONFLICT_PROJECT, EDITOR, EDITOR_CONFLICT_ORG, EDITOR_CONFLICT_PROJECT,
    SUPERUSER, INACTIVE, ANONYMOUS,
]  # fmt: skip

# --- The brief's table, by hand ---------------------------------------------------------
# Readings of the brief made here: a founder resubmits straight from changes_requested
# (they edit in that state); "before published" means the open states, so rejected and
# withdrawn are final; a reviewer "taking it" is start_review, while assign is the editor's;
# only an assigned reviewer records a review; a superuser is an editor (not a reviewer);
# an inactive account and an anonymous user have no role at all.
#
#  action             may start from            leads to    who may take it (nobody else)
EXPECTED = {
    "submit":          ({DRAFT, CHANGES},         SUBMITTED,  {OWNER, OWNER_STAFF}),
    "withdraw":        (BEFORE_PUBLISH,           WITHDRAWN,  {OWNER, OWNER_STAFF}),
    "start_review":    ({SUBMITTED},              IN_REVIEW,  {REVIEWER, ASSIGNED, EDITOR, SUPERUSER}),
    "assign":          ({SUBMITTED, IN_REVIEW},   IN_REVIEW,  {EDITOR, SUPERUSER}),
    "record_review":   ({IN_REVIEW},              IN_REVIEW,  {ASSIGNED}),
    "request_changes": ({IN_REVIEW},              CHANGES,    {ASSIGNED, EDITOR, SUPERUSER}),
    "approve":         ({IN_REVIEW},              APPROVED,   {ASSIGNED, EDITOR, SUPERUSER}),
    "reject":          ({IN_REVIEW},              REJECTED,   {ASSIGNED, EDITOR, SUPERUSER}),
    "publish":         ({APPROVED},               PUBLISHED,  {EDITOR, SUPERUSER}),
}  # fmt: skip

# The Event each action writes (a review is recorded as "review").
EVENT_ACTION = {action: action for action in EXPECTED} | {"record_review": "review"}

REASON = "Please add the team page; the founder reads this."
ORGANIZATION = "Acme Robotics"
ORGANIZATION_AS_DECLARED = "  acme   ROBOTICS "  # compared without case and extra spaces


def expected(state, action, role):
    """The state the submission should reach, or None when the brief refuses it."""
    sources, target, who = EXPECTED[action]
    return target if state in sources and role in who else None


def test_the_table_covers_every_transition():
    assert set(EXPECTED) == set(workflow.TRANSITIONS) | {"assign", "record_review"}
    assert {state for sources, _target, _who in EXPECTED.values() for state in sources} | {
        PUBLISHED, REJECTED, WITHDRAWN,
    } == set(State)  # fmt: skip


# --- Builders ---------------------------------------------------------------------------------


def build_submission(state, *, on_project=False):
    """A complete submission by a fresh founder; `on_project`: an update of their live project."""
    founder = make_user()
    if on_project:
        project = make_project(owner=founder, organization=ORGANIZATION)
        return make_submission(
            founder, state=state, kind="update", project=project, organization=ORGANIZATION
        )
    return make_submission(founder, state=state, organization=ORGANIZATION)


def conflicted(user, submission, *, on):
    if on == "organization":
        Conflict.objects.create(reviewer=user, kind="employment", organization=ORGANIZATION_AS_DECLARED)
    else:
        Conflict.objects.create(reviewer=user, kind="investment", project=submission.project)
    return user


def assigned(user, submission):
    submission.reviewers.add(user)
    return user


def _owner_staff(submission):
    founder = submission.owner
    founder.is_staff = True
    founder.save()
    founder.groups.add(*Group.objects.filter(name__in=["Reviewers", "Editors"]))
    return assigned(founder, submission)


# role -> (needs an update of a live project, builder of the person)
PEOPLE = {
    OWNER: (False, lambda s: s.owner),
    OWNER_STAFF: (False, _owner_staff),
    OTHER_FOUNDER: (False, lambda s: make_user()),
    REVIEWER: (False, lambda s: make_staff("Reviewers")),
    ASSIGNED: (False, lambda s: assigned(make_staff("Reviewers"), s)),
    REVIEWER_CONFLICT_ORG: (
        False, lambda s: assigned(conflicted(make_staff("Reviewers"), s, on="organization"), s),
    ),
    REVIEWER_CONFLICT_PROJECT: (
        True, lambda s: assigned(conflicted(make_staff("Reviewers"), s, on="project"), s),
    ),
    EDITOR: (False, lambda s: make_staff("Editors")),
    EDITOR_CONFLICT_ORG: (False, lambda s: conflicted(make_staff("Editors"), s, on="organization")),
    EDITOR_CONFLICT_PROJECT: (True, lambda s: conflicted(make_staff("Editors"), s, on="project")),
    SUPERUSER: (False, lambda s: make_user(is_staff=True, is_superuser=True)),
    INACTIVE: (False, lambda s: assigned(make_staff("Reviewers", "Editors", is_active=False), s)),
    ANONYMOUS: (False, lambda s: AnonymousUser()),
}  # fmt: skip


def call(action, submission, actor):
    """Take `action` the way the admin and the founder pages do, with a reason where one is due."""
    if action == "submit":
        return workflow.submit(submission, by=actor)
    if action == "withdraw":
        return workflow.withdraw(submission, by=actor, reason=REASON)
    if action == "start_review":
        return workflow.start_review(submission, by=actor)
    if action == "assign":
        return workflow.assign(submission, by=actor, reviewer=make_staff("Reviewers"))
    if action == "record_review":
        return workflow.record_review(
            submission, by=actor, authenticity=4, innovation=3, completeness=5,
            recommendation="approve", comment="Clear and complete.", internal_note="internal",
        )  # fmt: skip
    if action == "request_changes":
        return workflow.request_changes(submission, by=actor, comment=REASON)
    if action == "approve":
        return workflow.approve(submission, by=actor, note="Welcome to the map.")
    if action == "reject":
        return workflow.reject(submission, by=actor, reason=REASON)
    if action == "publish":
        return workflow.publish(submission, by=actor)
    raise AssertionError(action)


def snapshot(submission):
    """Everything a refused action must leave as it was."""
    fresh = Submission.objects.get(pk=submission.pk)
    return {
        "state": fresh.state,
        "version": fresh.version,
        "updated_at": fresh.updated_at,
        "events": Event.objects.count(),
        "reviews": sorted(Review.objects.values_list("pk", "recommendation", "comment")),
        "reviewers": sorted(fresh.reviewers.values_list("pk", flat=True)),
        "projects": sorted(Project.objects.values_list("pk", "published", "updated_at")),
        "conflicts": Conflict.objects.count(),
    }


# --- The matrix ----------------------------------------------------------------------------


def cases():
    for state in State:
        for action in EXPECTED:
            for role in ROLES:
                outcome = expected(state, action, role)
                verdict = f"to_{outcome}" if outcome else "refused"
                marks = ()
                yield pytest.param(
                    state, action, role, id=f"{state}-{action}-by_{role}-{verdict}", marks=marks
                )


@override_settings(REVIEW_APPROVALS_REQUIRED=1, AUTO_PUBLISH=False)
@pytest.mark.parametrize(("state", "action", "role"), list(cases()))
def test_transition(state, action, role):
    on_project, person = PEOPLE[role]
    submission = build_submission(state, on_project=on_project)
    if action == "approve":  # one approving review by an assigned reviewer without a conflict
        approving = assigned(make_staff("Reviewers"), submission)
        Review.objects.create(
            submission=submission, reviewer=approving, authenticity=5, innovation=4, completeness=4,
            recommendation="approve",
        )  # fmt: skip
    actor = person(submission)
    before = snapshot(submission)
    last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    target = expected(state, action, role)

    if target is None:
        with pytest.raises(TransitionError) as refused:
            call(action, submission, actor)
        assert str(refused.value.message).strip(), "a refusal says why"
        assert snapshot(submission) == before
        return

    call(action, submission, actor)
    submission.refresh_from_db()
    assert submission.state == target
    if state != target:
        assert submission.version == before["version"] + 1
    new_events = list(Event.objects.filter(pk__gt=last_event))
    assert [(e.submission_id, e.action, e.from_state, e.to_state, e.actor_id) for e in new_events] == [
        (submission.pk, EVENT_ACTION[action], state, target, actor.pk)
    ]


# --- The buttons offered agree with the table ------------------------------------------------


def button_cases():
    for state in State:
        for role in ROLES:
            yield pytest.param(state, role, id=f"{state}-by_{role}")


@pytest.mark.parametrize(("state", "role"), list(button_cases()))
def test_allowed_actions_offers_exactly_what_the_table_allows(state, role):
    on_project, person = PEOPLE[role]
    submission = build_submission(state, on_project=on_project)
    actor = person(submission)
    offered = set(workflow.allowed_actions(submission, actor))
    table = {action for action in workflow.TRANSITIONS if expected(state, action, role)}
    table.discard("approve")  # no approving review yet: the button waits for one
    assert offered == table


def test_approve_is_offered_once_the_approving_reviews_are_there(founder):
    submission = build_submission(State.IN_REVIEW)
    reviewer = assigned(make_staff("Reviewers"), submission)
    assert "approve" not in workflow.allowed_actions(submission, reviewer)
    Review.objects.create(
        submission=submission, reviewer=reviewer, authenticity=4, innovation=4, completeness=4,
        recommendation=Review.Recommendation.APPROVE,
    )  # fmt: skip
    assert "approve" in workflow.allowed_actions(submission, reviewer)


# --- Projects on the map: unpublish and republish -------------------------------------------

# Only editors (and superusers) without a conflict with the project; a reason is always
# given here. A conflicted editor is refused like a conflicted reviewer (docs/decisions/0006).
PROJECT_ROLES = {
    OWNER: lambda project: project.owner,
    OTHER_FOUNDER: lambda project: make_user(),
    REVIEWER: lambda project: make_staff("Reviewers"),
    EDITOR: lambda project: make_staff("Editors"),
    EDITOR_CONFLICT_PROJECT: lambda project: (
        Conflict.objects.create(reviewer=make_staff("Editors"), kind="competitor", project=project).reviewer
    ),
    SUPERUSER: lambda project: make_user(is_staff=True, is_superuser=True),
    INACTIVE: lambda project: make_staff("Editors", is_active=False),
    ANONYMOUS: lambda project: AnonymousUser(),
}
#  action        from (published?)   leads to   who may
PROJECT_EXPECTED = {
    "unpublish": (True,              False,     {EDITOR, SUPERUSER}),
    "republish": (False,             True,      {EDITOR, SUPERUSER}),
}  # fmt: skip


def project_cases():
    for published in (True, False):
        for action, (source, _target, who) in PROJECT_EXPECTED.items():
            for role in PROJECT_ROLES:
                allowed = published == source and role in who
                label = "published" if published else "unpublished"
                verdict = "allowed" if allowed else "refused"
                yield pytest.param(
                    published, action, role, allowed, id=f"{label}-{action}-by_{role}-{verdict}"
                )


@pytest.mark.parametrize(("published", "action", "role", "allowed"), list(project_cases()))
def test_project_transition(published, action, role, allowed):
    # An unpublished project here was on the map before (taken down); a listing never
    # published is test_the_first_publication_of_a_listing_is_its_own_event.
    was = {} if published else {"published_at": timezone.now() - timedelta(days=3)}
    project = make_project(owner=make_user(), published=published, organization=ORGANIZATION,
                           **was, **({"first_published_at": was["published_at"]} if was else {}))  # fmt: skip
    actor = PROJECT_ROLES[role](project)
    before = (Project.objects.filter(pk=project.pk).values_list("published", "updated_at").get(),)
    events = Event.objects.count()
    function = getattr(workflow, action)

    if not allowed:
        with pytest.raises(TransitionError):
            function(project, by=actor, reason=REASON)
        assert (Project.objects.filter(pk=project.pk).values_list("published", "updated_at").get(),) == before
        assert Event.objects.count() == events
        return

    function(project, by=actor, reason=REASON)
    project.refresh_from_db()
    assert project.published is PROJECT_EXPECTED[action][1]
    assert list(
        Event.objects.filter(project=project).values_list("action", "actor", "note", "submission")
    ) == [(action, actor.pk, REASON, None)]
    assert Event.objects.count() == events + 1


def test_the_first_publication_of_a_listing_is_its_own_event():
    listing = make_project(published=False, listed_by="editors", organization=ORGANIZATION)
    editor = PROJECT_ROLES[EDITOR](listing)
    workflow.republish(listing, by=editor, reason=REASON)
    listing.refresh_from_db()
    assert listing.is_public and listing.first_published_at == listing.published_at
    assert list(Event.objects.filter(project=listing).values_list("action", "note")) == [
        ("publish_listing", REASON)
    ]


# --- Reasons are required --------------------------------------------------------------------

BLANKS = [pytest.param("", id="empty"), pytest.param("   \n\t ", id="blank")]
NEEDS_A_REASON = {
    "request_changes": (IN_REVIEW, "editor", lambda s, by, text: workflow.request_changes(s, by=by, comment=text)),
    "reject": (IN_REVIEW, "editor", lambda s, by, text: workflow.reject(s, by=by, reason=text)),
    "withdraw": (SUBMITTED, "owner", lambda s, by, text: workflow.withdraw(s, by=by, reason=text)),
}  # fmt: skip


@pytest.mark.parametrize("text", BLANKS)
@pytest.mark.parametrize("action", list(NEEDS_A_REASON))
def test_it_refuses_a_decision_without_a_reason(action, text):
    state, who, take = NEEDS_A_REASON[action]
    submission = build_submission(state)
    actor = submission.owner if who == "owner" else make_staff("Editors")
    before = snapshot(submission)
    with pytest.raises(TransitionError, match="Give a reason") as refused:
        take(submission, actor, text)
    assert "reason" in refused.value.errors
    assert snapshot(submission) == before


@pytest.mark.parametrize(
    "action",
    [pytest.param(action) for action in NEEDS_A_REASON],
)
def test_it_refuses_a_missing_reason_with_a_message_not_a_crash(action):
    state, who, take = NEEDS_A_REASON[action]
    submission = build_submission(state)
    actor = submission.owner if who == "owner" else make_staff("Editors")
    before = snapshot(submission)
    with pytest.raises(TransitionError):
        take(submission, actor, None)
    assert snapshot(submission) == before


@pytest.mark.parametrize("text", BLANKS)
@pytest.mark.parametrize("action", ["unpublish", "republish"])
def test_it_refuses_to_unpublish_or_republish_without_a_reason(action, text):
    project = make_project(published=action == "unpublish")
    before = Project.objects.filter(pk=project.pk).values_list("published", "updated_at").get()
    with pytest.raises(TransitionError, match="Give a reason") as refused:
        getattr(workflow, action)(project, by=make_staff("Editors"), reason=text)
    assert "reason" in refused.value.errors
    assert Project.objects.filter(pk=project.pk).values_list("published", "updated_at").get() == before
    assert not Event.objects.exists()


# --- Stale forms ---------------------------------------------------------------------------------

STALE = {
    "submit": (DRAFT, "owner", lambda s, by, v: workflow.submit(s, by=by, expected_version=v)),
    "withdraw": (DRAFT, "owner", lambda s, by, v: workflow.withdraw(s, by=by, reason=REASON, expected_version=v)),
    "start_review": (SUBMITTED, "editor", lambda s, by, v: workflow.start_review(s, by=by, expected_version=v)),
    "request_changes": (
        IN_REVIEW, "editor", lambda s, by, v: workflow.request_changes(s, by=by, comment=REASON, expected_version=v),
    ),
    "reject": (IN_REVIEW, "editor", lambda s, by, v: workflow.reject(s, by=by, reason=REASON, expected_version=v)),
    "approve": (IN_REVIEW, "editor", lambda s, by, v: workflow.approve(s, by=by, expected_version=v)),
    "publish": (APPROVED, "editor", lambda s, by, v: workflow.publish(s, by=by, expected_version=v)),
}  # fmt: skip


@pytest.mark.parametrize("action", list(STALE))
def test_it_refuses_a_form_opened_on_an_older_version(action):
    state, who, take = STALE[action]
    submission = build_submission(state)
    Submission.objects.filter(pk=submission.pk).update(version=5)  # someone else wrote meanwhile
    actor = submission.owner if who == "owner" else make_staff("Editors")
    before = snapshot(submission)
    with pytest.raises(workflow.StaleSubmission, match="changed since you opened it"):
        take(submission, actor, 4)
    assert snapshot(submission) == before


# --- How many approvals ------------------------------------------------------------------------


class TestApprovalThreshold:
    @pytest.fixture(autouse=True)
    def two_approvals_required(self):
        with override_settings(REVIEW_APPROVALS_REQUIRED=2):
            yield

    def setup_submission(self, reviewers=2):
        submission = build_submission(IN_REVIEW)
        people = [assigned(make_staff("Reviewers"), submission) for _n in range(reviewers)]
        return submission, people

    def test_it_refuses_with_one_approval_of_two(self):
        submission, (first, _second) = self.setup_submission()
        review(submission, first)
        before = snapshot(submission)
        with pytest.raises(TransitionError, match="needs 2 approving review"):
            workflow.approve(submission, by=make_staff("Editors"))
        assert snapshot(submission) == before

    def test_other_recommendations_do_not_count(self):
        submission, (first, second) = self.setup_submission()
        review(submission, first)
        review(submission, second, recommendation="request_changes")
        with pytest.raises(TransitionError, match="has 1"):
            workflow.approve(submission, by=first)
        submission.refresh_from_db()
        assert submission.state == IN_REVIEW

    def test_an_approval_from_a_reviewer_who_later_declared_a_conflict_does_not_count(self):
        submission, (first, second, third) = self.setup_submission(reviewers=3)
        review(submission, first)
        review(submission, second)
        workflow.declare_conflict(by=second, reviewer=second, kind="advisory", organization="ACME robotics")
        editor = make_staff("Editors")
        with pytest.raises(TransitionError, match="has 1"):
            workflow.approve(submission, by=editor)
        submission.refresh_from_db()
        assert submission.state == IN_REVIEW
        review(submission, third)
        assert workflow.approve(submission, by=editor).state == APPROVED

    def test_it_approves_with_two_approvals(self):
        submission, (first, second) = self.setup_submission()
        review(submission, first)
        review(submission, second)
        approved = workflow.approve(submission, by=second)
        assert approved.state == APPROVED
        assert approved.events.filter(action="approve", actor=second).count() == 1

    def test_a_changed_mind_is_counted_once(self):
        submission, (first, _second) = self.setup_submission()
        review(submission, first)
        review(submission, first)  # written again: still one review
        with pytest.raises(TransitionError, match="has 1"):
            workflow.approve(submission, by=first)
