"""The open-data shape of a project: one record per published listing, the same for the
CSV and JSON downloads and the API. Column names are the schema's (registry.listing)."""

from registry.fields import MultiChoiceField
from registry.listing import Listing, listing_field_names

# The schema's fields as published: the contact address only when the founder chose to
# show it, and never the choice itself.
SCHEMA_COLUMNS = [name for name in listing_field_names() if name != "show_contact_email"]
READ_ONLY_COLUMNS = ["url", "logo_url", "verified", "listed_by", "published_at", "updated_at"]
COLUMNS = SCHEMA_COLUMNS + READ_ONLY_COLUMNS
MULTI_VALUED = {"secondary_tracks"} | {
    field.name for field in Listing._meta.local_fields if isinstance(field, MultiChoiceField)
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def listing_values(listing, columns=SCHEMA_COLUMNS):
    """{column: value} of a Project or a Submission for the schema `columns`: track slugs,
    lists for many-valued fields, the logo's stored name, the country code."""
    data = {}
    for name in columns:
        if name == "track":
            value = listing.track.slug if listing.track_id else ""
        elif name == "secondary_tracks":
            value = [track.slug for track in listing.secondary_tracks.all()]
        elif name == "logo":
            value = listing.logo.name or ""
        elif name == "hq_country":
            value = listing.hq_country.code or ""
        else:
            value = getattr(listing, name)
        data[name] = value
    return data


def record(project, absolute):
    """{column: value} for `project`; lists for many-valued columns. `absolute(path)` makes a full URL."""
    data = listing_values(project)
    data["contact_email"] = project.public_contact_email
    data.update(
        url=absolute(project.get_absolute_url()),
        logo_url=absolute(project.logo.url) if project.logo else "",
        verified=project.verified,
        listed_by=project.listed_by,
        published_at=project.published_at.isoformat() if project.published_at else None,
        updated_at=project.updated_at.isoformat() if project.updated_at else None,
    )
    return data


def csv_cell(value):
    """A CSV cell: lists joined with ';', and text that a spreadsheet would run as a formula
    (starting with = + - @) prefixed with an apostrophe."""
    if isinstance(value, list):
        value = ";".join(str(item) for item in value)
    elif value is None:
        value = ""
    elif isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def csv_row(data):
    return [csv_cell(data[column]) for column in COLUMNS]
