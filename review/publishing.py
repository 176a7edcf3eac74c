"""What publishing writes onto the registry: called by review.workflow only, inside its transaction."""

from django.utils import timezone

from registry.listing import copy_listing
from registry.models import Project
from review.models import Submission

Kind = Submission.Kind


def write_project(submission, *, publish_at=None):
    """Create or update the Project that `submission` proposes, and return it.

    new:    a new Project owned by the founder, published at `publish_at` (or now);
    update: the Project takes the proposed content; its slug, dates and published flag stay;
    claim:  the Project gets the founder as its owner; its content stays.
    Every kind marks the listing as reviewed by the association.
    """
    now = timezone.now()
    if submission.kind == Kind.NEW:
        project = Project(owner=submission.owner, listed_by=Project.ListedBy.FOUNDER)
    else:
        project = Project.objects.select_for_update().get(pk=submission.project_id)

    if submission.kind in (Kind.NEW, Kind.UPDATE):
        copy_listing(submission, project)
    if submission.kind == Kind.CLAIM:
        project.owner = submission.owner

    if submission.kind == Kind.NEW:
        project.publish(at=publish_at or now)
    # An update or a claim changes content or owner only: a project an editor took down
    # stays down until an editor republishes it (review.workflow.republish).
    project.verified, project.verified_at = True, now
    project.save()
    if submission.kind in (Kind.NEW, Kind.UPDATE):
        project.secondary_tracks.set(submission.secondary_tracks.all())
    return project
