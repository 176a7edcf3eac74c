"""What publishing writes onto the registry: called by review.workflow only, inside its transaction."""

from django.utils import timezone

from registry.listing import copy_listing
from registry.models import Project
from review.models import Submission

Kind = Submission.Kind


def _values(project):
    """{field name: value} of a project's listing and publication fields, secondary tracks
    included: compared before and after publishing to name the fields that changed."""
    values = {
        field.name: getattr(project, field.attname)
        for field in Project._meta.concrete_fields
        if (field.editable and not field.primary_key) or field.name in Project.PUBLICATION_FIELDS
    }
    values["logo"] = project.logo.name or ""
    values["secondary_tracks"] = (
        set(project.secondary_tracks.values_list("pk", flat=True)) if project.pk else set()
    )
    return values


def write_project(submission, *, publish_at=None):
    """Create or update the Project that `submission` proposes; return it and the names of
    the fields that changed (for the publication's Event).

    new:    a new Project owned by the founder, published at `publish_at` (or now);
    update: the Project takes the proposed content; its slug, dates and published flag stay;
    claim:  the Project gets the founder as its owner; its content stays.
    A new project and an update mark the listing as reviewed by the association (its content
    was reviewed); a claim marks it claimed (the association checked who runs it, not what
    the listing says: an unreviewed listing stays unreviewed until its founder's first
    reviewed update). Each of them verifies the listing (`last_verified_at`).
    """
    now = timezone.now()
    if submission.kind == Kind.NEW:
        before = _values(Project())
        project = Project(owner=submission.owner, listed_by=Project.ListedBy.FOUNDER)
    else:
        project = Project.objects.select_for_update().get(pk=submission.project_id)
        before = _values(project)

    if submission.kind in (Kind.NEW, Kind.UPDATE):
        copy_listing(submission, project)
    if submission.kind == Kind.CLAIM:
        project.owner, project.claimed_at = submission.owner, now

    if submission.kind == Kind.NEW:
        project.publish(at=publish_at or now)
    # An update or a claim changes content or owner only: a project an editor took down
    # stays down until an editor republishes it (review.workflow.republish).
    if submission.kind in (Kind.NEW, Kind.UPDATE):
        project.verified, project.verified_at = True, now
    # A review decision confirms the listing as it now stands (a claim: who runs it).
    project.last_verified_at = now
    project.save()
    if submission.kind in (Kind.NEW, Kind.UPDATE):
        project.secondary_tracks.set(submission.secondary_tracks.all())
    after = _values(project)
    return project, [name for name, value in after.items() if value != before[name]]
