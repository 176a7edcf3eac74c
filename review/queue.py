"""The review queue's questions: what awaits a reviewer, and which of their conflicts touch
a submission. Read-only: roles and rules are review.roles' and review.workflow's."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy

from review.models import Conflict, Submission
from review.roles import is_reviewer, normalised_organization

State = Submission.State


def _organizations(submission_organization, project_organization):
    """The organisations a submission is about: the proposed one and the live one (as roles do)."""
    names = {normalised_organization(submission_organization), normalised_organization(project_organization)}
    return names - {""}


def conflicts_touching(user, submission):
    """`user`'s declared conflicts with this submission, its project or its organisation."""
    project = submission.project if submission.project_id else None
    organizations = _organizations(submission.organization, project.organization if project else "")
    return [
        conflict
        for conflict in Conflict.objects.filter(reviewer=user).select_related("project", "submission")
        if conflict.submission_id == submission.pk
        or (project is not None and conflict.project_id == project.pk)
        or normalised_organization(conflict.organization) in organizations
    ]


def awaiting_review_by(queryset, user):
    """What `user` could review now and has not: submitted ones anyone may take, and those in
    review assigned to them; never their own or ones they declared a conflict with."""
    if not is_reviewer(user):
        return queryset.none()
    mine = Submission.reviewers.through.objects.filter(user=user).values("submission")
    waiting = queryset.filter(Q(state=State.SUBMITTED) | Q(state=State.IN_REVIEW, pk__in=mine))
    waiting = waiting.exclude(reviews__reviewer=user).exclude(owner=user).exclude(project__owner=user)
    conflicts = Conflict.objects.filter(reviewer=user)
    waiting = waiting.exclude(pk__in=conflicts.filter(submission__isnull=False).values("submission"))
    waiting = waiting.exclude(project__in=conflicts.filter(project__isnull=False).values("project"))
    organizations = {
        normalised_organization(name)
        for name in conflicts.exclude(organization="").values_list("organization", flat=True)
    }
    if organizations:
        tied = [
            pk
            for pk, name, live_name in waiting.values_list("pk", "organization", "project__organization")
            if _organizations(name, live_name) & organizations
        ]
        waiting = waiting.exclude(pk__in=tied)
    return waiting


class AssignedToMeFilter(admin.SimpleListFilter):
    title = gettext_lazy("assigned to me")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", gettext_lazy("Assigned to me"))]

    def queryset(self, request, queryset):
        return queryset.filter(reviewers=request.user) if self.value() == "me" else queryset


class AwaitingMyReviewFilter(admin.SimpleListFilter):
    title = gettext_lazy("awaiting my review")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", gettext_lazy("Awaiting my review"))]

    def queryset(self, request, queryset):
        return awaiting_review_by(queryset, request.user) if self.value() == "me" else queryset
