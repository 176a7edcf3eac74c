"""Two people acting on the same submission at the same moment: exactly one wins, the other
is told the state changed, and nothing is half-written (PRODUCT.md, "Submission states").

Each race runs two threads; Django gives each thread its own database connection, so the
two calls really are two transactions competing for the same row. A barrier releases
both calls at once, round after round. PostgreSQL only: SQLite serialises every writer
(IMMEDIATE transactions), so a race there proves nothing. Run with `-s` to see the figures.
"""

import threading
import time
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.db.models import Q

from registry.models import Project
from review import workflow
from review.models import Event, Review, Submission
from review.workflow import StaleSubmission, TransitionError
from tests.base import content, ensure_tracks, make_project, make_submission, make_user
from tests.review.workflow_builders import ensure_groups, make_editor, make_reviewer

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): SQLite serialises all writers, "
        "so two connections never really race",
    ),
    pytest.mark.django_db(transaction=True),
]
State = Submission.State
ROUNDS = 50
WON = "won"


@dataclass
class Race:
    """Two named actions taken at the same moment, `rounds` times, on a fresh subject each round."""

    left: tuple  # (name, function of the round's subject)
    right: tuple
    rounds: int = ROUNDS
    right_delay: float = 0.0  # seconds the right side waits in odd rounds, to vary who locks first
    outcomes: list = field(default_factory=list)  # per round: {name: "won" | exception class name}
    seconds: float = 0.0

    def run(self, build):
        start = threading.Barrier(3, timeout=30)
        finished = threading.Barrier(3, timeout=30)
        subjects = []
        self.outcomes = [{} for _round in range(self.rounds)]

        def worker(name, act, delay):
            try:
                for number in range(self.rounds):
                    start.wait()
                    time.sleep(delay * (number % 2))
                    try:
                        act(subjects[number])
                    except TransitionError as refused:
                        self.outcomes[number][name] = type(refused).__name__
                    except Exception as error:  # anything else is a failure the test reports
                        self.outcomes[number][name] = f"crashed: {error!r}"
                    else:
                        self.outcomes[number][name] = WON
                    finished.wait()
            except BaseException:
                start.abort()  # do not leave the others waiting for the timeout
                finished.abort()
                raise
            finally:
                connection.close()  # this thread's own connection

        sides = [(*self.left, 0.0), (*self.right, self.right_delay)]
        threads = [threading.Thread(target=worker, args=side, daemon=True) for side in sides]
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        try:
            for _number in range(self.rounds):
                subjects.append(build())
                start.wait()
                finished.wait()
        except BaseException:
            start.abort()  # releases the workers when the main thread failed
            finished.abort()
            raise
        finally:
            for thread in threads:
                thread.join(timeout=30)
        self.seconds = time.perf_counter() - began
        return self

    def wins(self, name):
        return sum(1 for outcome in self.outcomes if outcome[name] == WON)

    def report(self, title):
        left, right = self.left[0], self.right[0]
        refusals = {}
        for outcome in self.outcomes:
            for result in outcome.values():
                if result != WON:
                    refusals[result] = refusals.get(result, 0) + 1
        print(
            f"\n{title}: {self.rounds} rounds in {self.seconds:.2f}s; "
            f"{left} won {self.wins(left)}, {right} won {self.wins(right)}; refusals {refusals}"
        )


@pytest.fixture
def people(db):
    ensure_tracks()  # flushed by every transactional test
    ensure_groups()
    return {
        "founder": make_user(),
        "editor_a": make_editor(),
        "editor_b": make_editor(),
        "reviewer": make_reviewer(),
    }


def decision_events(submission):
    return list(
        Event.objects.filter(submission=submission)
        .exclude(action__in=["create", "edit", "assign", "review", "mail_failed"])
        .values_list("action", "from_state", "to_state")
    )


def test_approve_against_reject(people, mailoutbox):
    founder, reviewer = people["founder"], people["reviewer"]

    def build():
        submission = make_submission(founder, state=State.IN_REVIEW, language="en")
        submission.reviewers.add(reviewer)
        Review.objects.create(
            submission=submission, reviewer=reviewer, authenticity=4, innovation=4, completeness=4,
            recommendation="approve",
        )  # fmt: skip
        return submission

    def approve(submission):  # the form was opened on this version, like the admin's
        workflow.approve(
            submission, by=people["editor_a"], note="Welcome.", expected_version=submission.version
        )

    def reject(submission):  # no version: only the state protects it
        workflow.reject(submission, by=people["editor_b"], reason="Not an AI product.")

    race = Race(("approve", approve), ("reject", reject)).run(build)
    race.report("approve vs reject")

    submissions = Submission.objects.filter(owner=founder).order_by("pk")
    assert submissions.count() == ROUNDS
    for number, (submission, outcome) in enumerate(zip(submissions, race.outcomes, strict=True)):
        winners = [name for name, result in outcome.items() if result == WON]
        assert len(winners) == 1, (number, outcome)
        [loser_result] = [result for result in outcome.values() if result != WON]
        assert loser_result in (TransitionError.__name__, StaleSubmission.__name__), (number, outcome)
        target = {"approve": State.APPROVED, "reject": State.REJECTED}[winners[0]]
        assert (submission.state, submission.version) == (target, 2), (number, outcome)
        assert decision_events(submission) == [(winners[0], State.IN_REVIEW, target)], number
    assert race.wins("approve") + race.wins("reject") == ROUNDS
    # one decision email per round, to the founder, after the winner's commit
    assert len(mailoutbox) == ROUNDS and {tuple(m.to) for m in mailoutbox} == {(founder.email,)}


def test_publish_against_publish(people):
    founder, editor_a, editor_b = people["founder"], people["editor_a"], people["editor_b"]

    def build():
        return make_submission(founder, state=State.APPROVED, language="en")

    race = Race(
        ("editor_a", lambda s: workflow.publish(s, by=editor_a)),
        ("editor_b", lambda s: workflow.publish(s, by=editor_b, expected_version=s.version)),
    ).run(build)
    race.report("publish vs publish")

    for number, outcome in enumerate(race.outcomes):
        assert sorted(outcome.values()) in (
            sorted([WON, TransitionError.__name__]), sorted([WON, StaleSubmission.__name__]),
        ), (number, outcome)  # fmt: skip
    assert race.wins("editor_a") + race.wins("editor_b") == ROUNDS
    assert Project.objects.count() == ROUNDS, "exactly one project per published submission"
    for submission in Submission.objects.filter(owner=founder).select_related("project"):
        assert submission.state == State.PUBLISHED and submission.version == 2
        project = submission.project
        assert project is not None and project.published and project.verified and project.owner == founder
        assert (project.name, project.tagline) == (submission.name, submission.tagline)
        assert decision_events(submission) == [("publish", State.APPROVED, State.PUBLISHED)]


def test_publish_of_an_update_against_unpublish_of_its_project(people):
    """Both may succeed, one after the other: the result must be one of the two orders, whole."""
    founder, editor_a, editor_b = people["founder"], people["editor_a"], people["editor_b"]

    def build():
        project = make_project(owner=founder, tagline="Old tagline")
        return make_submission(
            founder,
            kind="update",
            project=project,
            state=State.APPROVED,
            tagline="New tagline",
            language="en",
        )

    race = Race(
        ("publish", lambda s: workflow.publish(s, by=editor_a)),
        ("unpublish", lambda s: workflow.unpublish(s.project, by=editor_b, reason="Website is down.")),
        # unpublish locks the project at once, publish only after the submission: without a head
        # start for publish in every other round, unpublish would nearly always go first
        right_delay=0.004,
    ).run(build)
    race.report("publish (update) vs unpublish (its project)")

    unpublished_last = 0
    for number, submission in enumerate(Submission.objects.filter(owner=founder).order_by("pk")):
        assert race.outcomes[number] == {"publish": WON, "unpublish": WON}, (number, race.outcomes[number])
        project = Project.objects.get(pk=submission.project_id)
        assert submission.state == State.PUBLISHED and submission.version == 2
        assert project.tagline == "New tagline" and project.verified, "the update was written whole"
        order = list(
            Event.objects.filter(
                Q(submission=submission, action="publish") | Q(project=project, action="unpublish")
            )
            .order_by("pk")
            .values_list("action", flat=True)
        )
        assert sorted(order) == ["publish", "unpublish"], (number, order)
        # whatever the order, the project stays down: publishing an update never republishes
        assert project.published is False, (number, order)
        unpublished_last += order[-1] == "unpublish"
    print(f"  unpublish committed last in {unpublished_last} of {ROUNDS} rounds")


def test_one_founders_two_saves_against_the_last_one_the_limit_allows(people, settings):
    """The save limit and the storage quota count a founder's saves exactly: one at a time."""
    settings.SUBMISSION_SAVES_PER_HOUR = 1

    def start(founder, name):
        workflow.create(by=founder, content=content(name=name))

    race = Race(
        ("left", lambda founder: start(founder, "Left")),
        ("right", lambda founder: start(founder, "Right")),
        right_delay=0.001,
    ).run(make_user)  # a fresh founder each round, with one save left
    race.report("the last save against the last save")

    for number, outcome in enumerate(race.outcomes):
        assert sorted(outcome.values()) == sorted([WON, workflow.SaveLimitError.__name__]), (number, outcome)
    assert Submission.objects.count() == ROUNDS
