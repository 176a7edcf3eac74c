"""The editors' exports: every field, review state included, as CSV or XLSX.

The public's exports are the open-data files (registry.api); these are for staff only
and carry what the public never sees: unpublished listings, contact addresses, owners,
the state of an open submission. Both shapes start with the schema's columns, so an
editor's export can be edited and imported again (review.importing ignores the rest).
"""

from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from registry.listing import listing_field_names
from registry.opendata import csv_cell, listing_values
from registry.spreadsheets import XLSX_MEDIA_TYPE, csv_lines, xlsx_bytes
from review.models import Submission

LISTING_COLUMNS = listing_field_names()
PROJECT_COLUMNS = [
    "id",
    *LISTING_COLUMNS,
    "url",
    "published",
    "published_at",
    "first_published_at",
    "featured",
    "verified",
    "verified_at",
    "listed_by",
    "owner",
    "open_submission",
    "open_submission_state",
    "created_at",
    "updated_at",
]
SUBMISSION_COLUMNS = [
    "id",
    "kind",
    "state",
    "version",
    "owner",
    "project",
    "publish_at",
    *LISTING_COLUMNS,
    "created_at",
    "updated_at",
]


def _when(value):
    return value.isoformat() if value else ""


def project_rows(queryset):
    open_submissions = Submission.objects.open().filter(project=OuterRef("pk")).order_by("-pk")
    queryset = (
        queryset.select_related("track", "owner")
        .prefetch_related("secondary_tracks")
        .annotate(
            open_submission=Subquery(open_submissions.values("pk")[:1]),
            open_submission_state=Subquery(open_submissions.values("state")[:1]),
        )
        .order_by("pk")
    )
    for project in queryset.iterator(chunk_size=2000):
        data = listing_values(project, LISTING_COLUMNS)
        data.update(
            id=project.pk,
            url=project.get_absolute_url(),
            published=project.published,
            published_at=_when(project.published_at),
            first_published_at=_when(project.first_published_at),
            featured=project.featured,
            verified=project.verified,
            verified_at=_when(project.verified_at),
            listed_by=project.listed_by,
            owner=project.owner.email if project.owner else "",
            open_submission=project.open_submission or "",
            open_submission_state=project.open_submission_state or "",
            created_at=_when(project.created_at),
            updated_at=_when(project.updated_at),
        )
        yield [csv_cell(data[column]) for column in PROJECT_COLUMNS]


def submission_rows(queryset):
    queryset = (
        queryset.select_related("track", "owner", "project")
        .prefetch_related("secondary_tracks")
        .order_by("pk")
    )
    for submission in queryset.iterator(chunk_size=2000):
        data = listing_values(submission, LISTING_COLUMNS)
        data.update(
            id=submission.pk,
            kind=submission.kind,
            state=submission.state,
            version=submission.version,
            owner=submission.owner.email if submission.owner else "",
            project=submission.project.slug if submission.project else "",
            publish_at=_when(submission.publish_at),
            created_at=_when(submission.created_at),
            updated_at=_when(submission.updated_at),
        )
        yield [csv_cell(data[column]) for column in SUBMISSION_COLUMNS]


def response(kind, columns, rows, file_format):
    """A download of `rows` as CSV (streamed) or XLSX, named after `kind` and today's date."""
    stamp = timezone.localdate().isoformat()
    if file_format == "xlsx":
        response = HttpResponse(xlsx_bytes(columns, rows, title=kind), content_type=XLSX_MEDIA_TYPE)
        extension = "xlsx"
    else:
        response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
        extension = "csv"
    response["Content-Disposition"] = f'attachment; filename="aimap-{kind}-{stamp}.{extension}"'
    return response
