"""Editors' changes to a listing outside the submission workflow: featuring it, and adding
or editing it by hand in the admin.

Like review.workflow's functions, each one takes the project first and the editor by
keyword, runs in one transaction, locks the row it changes, refuses with a `TransitionError` (someone
who is not an editor; an editor who owns the project or declared a conflict with it), and
writes the change with its Event (review.audit): who, which action, which fields. A call
that would change nothing writes nothing. Saving the project moves the public pages'
cache version (registry.signals).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from registry.models import Project
from review import audit
from review.roles import is_conflicted_with_project, is_editor
from review.workflow import TransitionError


def _check_editor(by):
    if not is_editor(by):
        raise TransitionError(_("Only an editor can change a listing."))


def _lock(project, *, by):
    """The project's stored row, locked until the transaction ends, once `by` may change it."""
    _check_editor(by)
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if is_conflicted_with_project(by, locked):
        raise TransitionError(
            _(
                "You own this project or declared a conflict of interest with it, so another editor must change it."
            )
        )
    return locked


def _set_featured(project, *, by, featured):
    locked = _lock(project, by=by)
    if locked.featured == featured:
        return locked
    locked.featured = featured
    locked.save(update_fields=["featured", "updated_at"])
    audit.record(
        project=locked, by=by, action="feature" if featured else "unfeature", changed_fields=["featured"]
    )
    return locked


@transaction.atomic
def feature(project, *, by):
    """Show the project among the featured ones on the home page."""
    return _set_featured(project, by=by, featured=True)


@transaction.atomic
def unfeature(project, *, by):
    return _set_featured(project, by=by, featured=False)


@transaction.atomic
def create(project, *, by, changed_fields, secondary_tracks=()):
    """Save a listing an editor added by hand (`project`: unsaved, its fields set).
    `changed_fields`: the fields the editor filled in."""
    _check_editor(by)
    project.save()
    project.secondary_tracks.set(secondary_tracks)
    audit.record(project=project, by=by, action="create_listing", changed_fields=changed_fields)
    return project


@transaction.atomic
def edit(project, *, by, changed_fields, secondary_tracks=None):
    """Save an editor's changes to a listing (`project`: the stored one with the new values
    set, not saved yet). `changed_fields`: the names of the fields the editor changed;
    when there are none, nothing is written. `secondary_tracks`: the new ones, when that
    field is among the changed ones."""
    _lock(project, by=by)
    changed_fields = list(changed_fields)
    if not changed_fields:
        return project
    project.save()
    if "secondary_tracks" in changed_fields:
        project.secondary_tracks.set(secondary_tracks or ())
    audit.record(project=project, by=by, action="edit_listing", changed_fields=changed_fields)
    return project


@transaction.atomic
def forget_default_country(project, *, source):
    """Make unknown the country an import gave an editors' listing only as the former default
    (CN), the file's row at `source` ("line N of FILE") giving none
    (manage.py unknown_imported_countries). A system repair: no editor, an Event all the same."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.hq_country != "CN" or locked.verified or locked.owner_id:
        return locked
    locked.hq_country = ""
    locked.save(update_fields=["hq_country", "updated_at"])
    audit.record(
        project=locked,
        by=None,
        action="unknown_country",
        detail=f"{source} gave no country; CN was only the former default",
        changed_fields=["hq_country"],
    )
    return locked
