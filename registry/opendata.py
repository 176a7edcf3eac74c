"""The open-data shape of a project: one record per published listing, the same for the
CSV and JSON downloads and the API. Column names are the schema's (registry.listing).

`record()` builds it from a Project (the API: one page at a time). The downloads stream
every published project, up to the whole map, so `export_records()` builds the same
records from the needed columns only, and `csv_pieces()` / `json_pieces()` write them;
the tests pin the downloads to record() + csv_row() / json.dumps(), byte for byte.
"""

import csv
import io
import itertools
import json
import re
from datetime import UTC
from types import SimpleNamespace

from django.db import connections, models
from django.db.models import Case, ExpressionWrapper, F, Func, TextField, Value, When
from django.utils import timezone
from django_countries.fields import CountryField

from registry.fields import MultiChoiceField
from registry.listing import Listing, listing_field_names
from registry.models import PUBLISHED_FLAG, Project, Track

# The schema's fields as published: the contact address only when the founder chose to
# show it, and never the choice itself.
SCHEMA_COLUMNS = [name for name in listing_field_names() if name != "show_contact_email"]
READ_ONLY_COLUMNS = [
    "url",
    "logo_url",
    "verified",
    "listed_by",
    "published_at",
    "updated_at",
    # where the content comes from (Project.provenance), when the association reviewed it, and
    # an editors' listing's source (name, licence, address)
    "provenance",
    "reviewed_at",
    "source",
    # when the listing was last confirmed true (Project.last_verified_at)
    "last_verified_at",
]
COLUMNS = SCHEMA_COLUMNS + READ_ONLY_COLUMNS
MULTI_VALUED = {"secondary_tracks"} | {
    field.name for field in Listing._meta.local_fields if isinstance(field, MultiChoiceField)
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# Listing fields naming another listing on the map (an acquirer, a successor): its slug.
LINKED = [
    name
    for name in SCHEMA_COLUMNS
    if getattr(Project._meta.get_field(name), "related_model", None) is Project
]
DATES = [name for name in SCHEMA_COLUMNS if type(Listing._meta.get_field(name)) is models.DateField]


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
        elif name in LINKED:
            linked = getattr(listing, name)
            value = linked.slug if linked is not None else ""
        elif name in DATES:
            value = getattr(listing, name)
            value = value.isoformat() if value else None
        else:
            value = getattr(listing, name)
        data[name] = value
    return data


def record(project, absolute):
    """{column: value} for `project`; lists for many-valued columns. `absolute(path)` makes a full URL."""
    data = listing_values(project)
    data["contact_email"] = project.public_contact_email
    for name in LINKED:  # only a listing the public may see is named
        linked = getattr(project, name)
        if linked is not None and not linked.is_public:
            data[name] = ""
    data.update(
        url=absolute(project.get_absolute_url()),
        logo_url=absolute(project.logo.url) if project.logo else "",
        verified=project.verified,
        listed_by=project.listed_by,
        published_at=project.published_at.isoformat() if project.published_at else None,
        updated_at=project.updated_at.isoformat() if project.updated_at else None,
        provenance=str(project.provenance),
        reviewed_at=project.verified_at.isoformat() if project.verified and project.verified_at else None,
        source=project.source,
        last_verified_at=project.last_verified_at.isoformat() if project.last_verified_at else None,
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


# --- Downloads: every matching project, streamed -----------------------------------------
# The same records as record(), built for up to the whole map at a time (100,000 projects:
# ~2 s of Python CPU instead of ~27 s): only the needed columns are read, with no model
# instances; secondary tracks in one query per batch of projects; URLs by string formatting
# from one reverse() and one storage.url(); many rows written per piece of the response.

EXPORT_FETCH = 2000  # rows read from the database at a time (a server-side cursor on PostgreSQL)
EXPORT_PIECE = 500  # rows per piece of the streamed response (one write to the client each)
_SAFE_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z").match
_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.[A-Za-z0-9]+\Z").match
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
assert all(len(prefix) == 1 for prefix in FORMULA_PREFIXES)


def _export_plan():
    """What each column is read from (values_list names and annotations), and the columns'
    positions by kind. Follows the schema: a new listing field is exported like its kind."""
    plan = SimpleNamespace(sources=[], annotations={}, multi=[], other=[], flags=[], linked=[], dates=[])
    for position, name in enumerate(SCHEMA_COLUMNS):
        field = Project._meta.get_field(name)
        if field.many_to_many:
            # The project's id here: its tracks are read for a batch of projects at a time.
            assert field.related_model is Track and not hasattr(plan, "tracks"), name
            plan.tracks = position
            plan.sources.append("pk")
        elif field.is_relation and field.related_model is Project:
            # The linked listing's slug when the public may see it (annotated in export_records).
            plan.linked.append(position)
            plan.sources.append(f"_{name}_slug")
        elif field.is_relation:
            assert field.related_model is Track and not hasattr(plan, "track"), name
            plan.track = position
            plan.sources.append(f"{name}__slug")
        elif isinstance(field, MultiChoiceField):
            # The stored text (",a,b,"), not the field's list: read without its converter.
            plan.multi.append(position)
            plan.sources.append(f"_{name}_text")
            plan.annotations[f"_{name}_text"] = ExpressionWrapper(F(name), output_field=TextField())
        else:
            plan.sources.append(name)
            if isinstance(field, models.FileField):
                assert name == "logo", name
            elif isinstance(field, CountryField):
                plan.country = position
            elif isinstance(field, models.BooleanField):
                plan.flags.append(position)
            elif type(field) is models.DateField:
                plan.dates.append(position)  # ISO text or None
            elif field.null or not isinstance(field, models.CharField | models.TextField):
                plan.other.append(position)  # numbers, or text that may be NULL
    # record() adds: url, logo_url, verified, listed_by, published_at, updated_at, provenance,
    # reviewed_at, source, last_verified_at; from these columns (the times by name: PostgreSQL
    # writes them as text).
    assert READ_ONLY_COLUMNS == [
        "url", "logo_url", "verified", "listed_by", "published_at", "updated_at", "provenance", "reviewed_at",
        "source", "last_verified_at",
    ]  # fmt: skip
    plan.sources += ["show_contact_email", "verified", "listed_by", "published_at", "updated_at", "verified_at",
                     "claimed_at", "source_name", "source_url", "source_licence", "last_verified_at"]  # fmt: skip
    plan.times = ("published_at", "updated_at", "verified_at", "last_verified_at")
    schema = len(SCHEMA_COLUMNS)
    plan.flags.append(schema + 2)  # verified
    plan.other += [*plan.dates, schema + 4, schema + 5, schema + 7, schema + 9]  # ISO text or None
    plan.slug, plan.logo, plan.email = (SCHEMA_COLUMNS.index(n) for n in ("slug", "logo", "contact_email"))
    return plan


_PLAN = _export_plan()


def _project_url_maker(absolute):
    """slug -> the project's absolute URL: reverse() once, then string formatting for every
    slug the URL pattern takes as it is (anything else the slow way)."""

    def slow(slug):
        return absolute(Project(slug=slug).get_absolute_url())

    samples = ("slug-sample-one", "slug-sample-two")
    first, second = (slow(slug) for slug in samples)
    head, found, tail = first.rpartition(samples[0])
    if not found or head + samples[1] + tail != second:
        return slow
    return lambda slug: head + slug + tail if _SAFE_SLUG(slug) else slow(slug)


def _logo_url_maker(absolute):
    """stored name -> the logo's absolute URL: the storage (local or S3) asked once, then
    string formatting for plain names such as logos/<hex>.webp (anything else asks it)."""
    storage = Project._meta.get_field("logo").storage

    def slow(name):
        return absolute(storage.url(name)) if name else ""

    samples = ("logos/sample-one.png", "logos/sample-two.png")
    first, second = (slow(name) for name in samples)
    prefix = first.removesuffix(samples[0])
    if prefix == first or prefix + samples[1] != second:
        return slow
    return lambda name: (prefix + name if _SAFE_FILE_NAME(name) else slow(name)) if name else ""


def _secondary_track_slugs(using, project_ids):
    """{project id: [slug, ...]} of the secondary tracks of `project_ids`, in the tracks' order
    (as project.secondary_tracks.all() gives them). One query; on PostgreSQL with the ids as
    one array parameter (the ORM's IN of thousands of parameters costs more than the query)."""
    assert Track._meta.ordering == ["order", "pk"]
    field = Project._meta.get_field("secondary_tracks")
    connection = connections[using]
    name = connection.ops.quote_name
    sql = (
        f"SELECT s.{name(field.m2m_column_name())}, t.{name('slug')}"
        f" FROM {name(field.m2m_db_table())} s"
        f" INNER JOIN {name(Track._meta.db_table)} t ON t.{name('id')} = s.{name(field.m2m_reverse_name())}"
        f" WHERE s.{name(field.m2m_column_name())} %s ORDER BY t.{name('order')}, t.{name('id')}"
    )
    if connection.vendor == "postgresql":
        queries = [(sql % "= ANY(%s)", [list(project_ids)])]
    else:
        size = connection.features.max_query_params or len(project_ids)
        queries = [
            (sql % f"IN ({', '.join(['%s'] * len(part))})", part)
            for part in itertools.batched(project_ids, size)
        ]
    slugs = {}
    with connection.cursor() as cursor:
        for query, params in queries:
            cursor.execute(query, params)
            for project, slug in cursor.fetchall():
                slugs.setdefault(project, []).append(slug)
    return slugs


def _utc_text(name):
    """The time `name` as ISO 8601 text in UTC, always with microseconds (PostgreSQL)."""
    return Func(
        F(name),
        template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
        output_field=TextField(),
    )


# Project.provenance_of() as the downloads write it (its code), for every combination of
# the values it reads: one dictionary lookup a row.
PROVENANCE_CODES = {
    (verified, claimed, listed_by): str(Project.provenance_of(verified, claimed, listed_by).value)
    for verified in (True, False)
    for claimed in (True, False)
    for listed_by in Project.ListedBy.values
}


def _public_slug(name, now):
    """The slug of the listing the field `name` links to, when the public may see it, else ""."""
    return Case(
        When(
            **{f"{name}__{PUBLISHED_FLAG}": True, f"{name}__published_at__lte": now},
            then=F(f"{name}__slug"),
        ),
        default=Value(""),
        output_field=TextField(),
    )


def source_text(name, url, licence):
    """Project.source_text(), "" at once for the many listings without a source."""
    return Project.source_text(name, url, licence) if name or url or licence else ""


def export_records(queryset, absolute, *, fetch=None):
    """record() of every project of `queryset` (published projects, filtered and ordered), as
    a list of values in COLUMNS order. Reads `fetch` projects at a time, then their secondary
    tracks: the memory used does not grow with the rows."""
    plan, fetch = _PLAN, fetch or EXPORT_FETCH
    connection = connections[queryset.db]
    # PostgreSQL writes the times as text (as isoformat() would, but for the offset): parsing
    # them into datetimes and formatting them again cost more than the rest of a row.
    times_as_text = connection.vendor == "postgresql" and connection.timezone is UTC
    annotations, sources = plan.annotations, plan.sources
    now = timezone.now()
    annotations = {
        **annotations,
        **{f"_{COLUMNS[position]}_slug": _public_slug(COLUMNS[position], now) for position in plan.linked},
    }
    if times_as_text:
        annotations = {**annotations, **{f"_{name}_text": _utc_text(name) for name in plan.times}}
        sources = [f"_{name}_text" if name in plan.times else name for name in sources]
    rows = (
        queryset.select_related(None)
        .prefetch_related(None)
        .annotate(**annotations)
        .values_list(*sources)
        .iterator(chunk_size=fetch)
    )
    countries, choices = {}, {}
    project_url = _project_url_maker(absolute)
    logo_url = _logo_url_maker(absolute)
    schema = len(SCHEMA_COLUMNS)
    track, secondary, country, multi = plan.track, plan.tracks, plan.country, plan.multi
    slug, logo, email = plan.slug, plan.logo, plan.email
    linked, dates = plan.linked, plan.dates

    while batch := list(itertools.islice(rows, fetch)):
        if len(choices) + len(countries) > 10_000:  # only odd stored values make that many
            choices.clear()
            countries.clear()
        secondary_slugs = _secondary_track_slugs(queryset.db, [values[secondary] for values in batch])
        for values in batch:
            row = list(values[:schema])
            row[track] = row[track] or ""
            row[secondary] = secondary_slugs.get(row[secondary], [])
            for position in multi:
                text = row[position]
                if text not in choices:  # few distinct values: each list made once (never changed)
                    choices[text] = [code for code in text.split(",") if code] if text else []
                row[position] = choices[text]
            code = row[country]
            if code not in countries:
                countries[code] = Project(hq_country=code).hq_country.code or ""
            row[country] = countries[code]
            row[logo] = row[logo] or ""
            for position in linked:
                row[position] = row[position] or ""
            for position in dates:
                row[position] = row[position] and row[position].isoformat()
            (show_email, verified, listed_by, published_at, updated_at, verified_at, claimed_at,
             source_name, source_url, source_licence, last_verified_at) = values[schema:]  # fmt: skip
            if not show_email:
                row[email] = ""
            if times_as_text:  # "2025-03-01T08:30:15.000000" -> "2025-03-01T08:30:15+00:00"
                published_at = published_at and published_at.removesuffix(".000000") + "+00:00"
                updated_at = updated_at and updated_at.removesuffix(".000000") + "+00:00"
                verified_at = verified_at and verified_at.removesuffix(".000000") + "+00:00"
                last_verified_at = last_verified_at and last_verified_at.removesuffix(".000000") + "+00:00"
            else:
                published_at = published_at.isoformat() if published_at else None
                updated_at = updated_at.isoformat() if updated_at else None
                verified_at = verified_at.isoformat() if verified_at else None
                last_verified_at = last_verified_at.isoformat() if last_verified_at else None
            row += (
                project_url(row[slug]),
                logo_url(row[logo]),
                verified,
                listed_by,
                published_at,
                updated_at,
                PROVENANCE_CODES[bool(verified), claimed_at is not None, listed_by],
                verified_at if verified else None,
                source_text(source_name, source_url, source_licence),
                last_verified_at,
            )
            yield row


def csv_pieces(records, piece=None):
    """The CSV download of `records` (export_records()), `piece` rows at a time: the text
    registry.spreadsheets.csv_lines(COLUMNS, [csv_row(record), ...]) gives, byte for byte,
    written here without the csv module (twice as fast: most cells need no quotes)."""
    header = io.StringIO()
    csv.writer(header).writerow(COLUMNS)
    yield "\ufeff" + header.getvalue()
    plan, piece, formula = _PLAN, piece or EXPORT_PIECE, _FORMULA_STARTS
    lists, flags, other = [plan.tracks, *plan.multi], plan.flags, plan.other
    # Cells that never need quotes nor a formula guard: true/false, the choices' codes (ours,
    # letters first, checked on the way in), the country code and the times (ISO, digits first).
    schema = len(SCHEMA_COLUMNS)
    plain = {
        *flags,
        *plan.multi,
        *plan.dates,
        plan.country,
        schema + 4,
        schema + 5,
        schema + 6,
        schema + 7,
        schema + 9,
    }
    checked = [position for position in range(len(COLUMNS)) if position not in plain]
    lines = []
    for row in records:
        # csv_cell(): lists joined with ";", booleans as true/false, None as "", text as is...
        for position in lists:
            row[position] = ";".join(row[position])
        for position in flags:
            row[position] = "true" if row[position] else "false"
        for position in other:
            value = row[position]
            row[position] = "" if value is None else str(value)
        for position in checked:
            text = row[position]
            if text:
                if text[0] in formula:  # ... and a formula made harmless
                    text = "'" + text
                # The csv module's quoting (excel dialect, QUOTE_MINIMAL), for rows of two cells or more.
                if '"' in text:
                    text = '"' + text.replace('"', '""') + '"'
                elif "," in text or "\n" in text or "\r" in text:
                    text = '"' + text + '"'
                row[position] = text
        lines.append(",".join(row))
        if len(lines) == piece:
            lines.append("")
            yield "\r\n".join(lines)
            lines = []
    if lines:
        lines.append("")
        yield "\r\n".join(lines)


def json_pieces(records, piece=None):
    """The JSON download of `records` (export_records()), `piece` rows at a time: the text
    "[" + ",".join(json.dumps(record, ensure_ascii=False) for each record) + "]\n" gives.

    A piece of records is encoded as one list (one encoder call, not one per record) and the
    list's separators between records, '}, {"name": ', become '},{"name": '. That text occurs
    nowhere else: values are text, numbers, booleans, null or lists of text (never objects),
    and inside encoded text every '"' is escaped."""
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    first_key = encode(COLUMNS[0]) + ": "
    between, wanted = "}, {" + first_key, "},{" + first_key
    columns, piece = COLUMNS, piece or EXPORT_PIECE
    yield "["
    separator, batch = "", []
    for row in records:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == piece:
            yield separator + encode(batch)[1:-1].replace(between, wanted)
            separator, batch = ",", []
    if batch:
        yield separator + encode(batch)[1:-1].replace(between, wanted)
    yield "]\n"
