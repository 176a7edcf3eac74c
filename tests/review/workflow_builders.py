"""Builders for the association's side of the workflow: staff people and reviewed submissions.

Shared by test_transition_matrix, test_review_rules and test_concurrency. Each builder
goes through review.workflow where the step is itself a transition, so the audit trail
looks like the real one.
"""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from review import workflow
from review.models import Submission
from tests.base import make_submission, make_user

State = Submission.State


def ensure_groups():
    """Recreate the migration's Reviewers and Editors groups after a transactional test flushed them."""
    if Group.objects.filter(name__in=["Reviewers", "Editors"]).count() < 2:
        migration = importlib.import_module("review.migrations.0003_groups")
        migration.create_groups(apps, None)


def make_staff(*groups, **extra):
    """A staff member in the named groups ("Reviewers", "Editors")."""
    user = make_user(is_staff=True, **extra)
    found = list(Group.objects.filter(name__in=groups))
    assert len(found) == len(groups), "the groups come from migration review/0003_groups"
    user.groups.add(*found)
    return user


def make_reviewer(**extra):
    return make_staff("Reviewers", **extra)


def make_editor(**extra):
    return make_staff("Editors", **extra)


def review(submission, reviewer, recommendation="approve", *, comment="", internal_note=""):
    return workflow.record_review(
        submission,
        by=reviewer,
        authenticity=4,
        innovation=4,
        completeness=4,
        recommendation=recommendation,
        comment=comment,
        internal_note=internal_note,
    )


def in_review(founder, *, editor, reviewer, comment="", internal_note="", recommendation="approve", **fields):
    """A submission submitted by `founder`, assigned by `editor` to `reviewer`, who reviewed it."""
    submission = make_submission(founder, **fields)
    submission = workflow.submit(submission, by=founder)
    submission = workflow.assign(submission, by=editor, reviewer=reviewer)
    review(submission, reviewer, recommendation, comment=comment, internal_note=internal_note)
    return Submission.objects.get(pk=submission.pk)


def approved(founder, *, editor, reviewer, **fields):
    submission = in_review(founder, editor=editor, reviewer=reviewer, **fields)
    return workflow.approve(submission, by=editor)


def published(founder, *, editor, reviewer, **fields):
    return workflow.publish(approved(founder, editor=editor, reviewer=reviewer, **fields), by=editor)
