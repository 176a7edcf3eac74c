"""Importing the long list: what a row means, how it matches what we hold, what is written.

One path for the admin's upload (preview, then confirm) and `manage.py import_projects`:

    plan = plan_import(data, encoding=..., logos=zip_bytes)    # reads, checks, matches; writes nothing
    result = apply_import(data, actor=editor, ...)             # plans again and writes, in one transaction

A plan is two steps. `read_file` does everything that depends on the file alone (the
table read, each row's values checked, each logo named read from the ZIP and decoded once)
and returns it as plain data: the admin keeps it with the upload, so viewing the preview
again and confirming read no workbook and decode no image. `plan_from(read)` matches those
rows against the database as it is now (a few queries): the preview does it on every view,
and the import does it again inside its transaction, so a row always meets the map as it
is when it is written (a listing published since the preview makes a "new" row an update;
a look-alike appeared since makes it flagged, and skipped unless the editor ticked it).

Rules (PRODUCT.md, "Import of the long list"):

- Columns are the schema's names (registry.listing), or their English or Chinese
  labels. Only `name` and `track` are required. Unknown columns are ignored with a
  warning; the read-only columns of our own exports (url, verified, ...) quietly.
- Choice values may be codes, English or Chinese labels; tracks slugs or names.
  Many-valued cells are split on ; , ， ； 、 or |.
- A row is the same project as a listing we hold when its slug matches, or, without a
  slug, when its normalised name *and* normalised website (host and path) match. Such a
  row updates the listing, or changes nothing when every value is already there:
  importing a file twice writes nothing the second time. Listings that belong to a
  founder are never changed by an import.
- A new row that looks like another listing or another row (same website, or same
  name) is flagged; flagged rows are imported only when the editor says so.
- Imported listings are published now, "listed by the editors", with no owner, so
  founders can claim them. Each new or updated listing gets an Event in the audit trail
  (review.audit), naming the fields the row filled in or changed.
- Nothing is half-written: every write happens in one transaction; in all-or-nothing
  mode a single row error writes nothing at all. Logo files written before a failure
  are deleted again.
"""

import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_countries import countries

from registry import published
from registry.fields import MultiChoiceField
from registry.images import LOGO_MAX_BYTES, save_logo, thumbnail_name
from registry.listing import Listing, end_state_errors, listing_field_names, secondary_track_errors
from registry.models import Project, Track
from registry.names import name_key
from registry.opendata import FORMULA_PREFIXES, READ_ONLY_COLUMNS
from registry.slugs import unique_slug
from registry.spreadsheets import AUTO, SpreadsheetError, read_table
from review import audit
from review.duplicates import normalised_website
from review.models import Submission

REQUIRED = ("name", "track")
# Links to other listings (an acquirer, a successor) are set by editors in the admin, where
# the listing linked to exists: an import names them by slug, which an empty map lacks.
LINKED = ("acquirer", "successor")
COLUMNS = [name for name in listing_field_names() if name not in LINKED]
# Columns our own exports add (open data and the editors' export): known, not imported.
KNOWN_EXTRA = (
    set(READ_ONLY_COLUMNS)
    | set(LINKED)
    | {
        "id",
        "published",
        "first_published_at",
        "featured",
        "verified_at",
        "owner",
        "open_submission",
        "open_submission_state",
        "created_at",
    }
)
SPLIT = re.compile(r"\s*[;,，；、|]\s*")
TRUE = {"true", "yes", "y", "1", "是", "对", "x", "✓"}
FALSE = {"false", "no", "n", "0", "否", "", "-"}
ZIP_MAX_MEMBERS = 20_000
# Values already looked up in the tracks, the choices or the country list while reading
# (the model's validators would look them up once more, row by row).
ALREADY_CHECKED = {"track", "hq_country"} | {
    field.name
    for field in Listing._meta.local_fields
    if field.choices and not isinstance(field, MultiChoiceField)
}


class ImportError_(ValueError):
    """The import cannot go ahead at all (a file-level problem); str() says why."""


@dataclass
class Row:
    line: int
    name: str = ""
    values: dict = field(default_factory=dict)  # field name -> cleaned value
    secondary: list = None  # [Track] when the column is present
    logo: tuple = None  # (file name, index of its member in the ZIP) when given, found and sound
    logo_missing: str = ""  # the warning when the named logo was not uploaded
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    similar: list = field(default_factory=list)  # descriptions of look-alike listings or rows
    project: Project = None  # the listing it matches
    changes: list = field(default_factory=list)  # field names an update changes
    action: str = ""  # create, update, unchanged, skip, error

    failed: set = field(default_factory=set)  # the columns with an error

    def fail(self, column, message):
        self.errors.append(f"{column}: {message}")
        self.failed.add(column)

    @property
    def flagged(self):
        return bool(self.similar) and self.action == "create"

    def given(self, name):
        """Whether the file gives this row a value for `name` (a column there, not empty)."""
        return self.values.get(name) not in (None, "", [])

    def value(self, name):
        """The listing's `name` once the row is written: the row's value, or for a field the
        file does not give, the matched listing's (an update) or unknown (a new listing)."""
        if name in self.values:
            return self.values[name]
        if self.project is not None:
            return getattr(self.project, name)
        return Listing._meta.get_field(name).get_default()

    @property
    def shown(self):
        """What the preview shows of every row: its track, country, stage and status, "—"
        for unknown."""
        return {name: display(name, self.value(name)) for name in PREVIEWED}

    @property
    def diffs(self):
        """(label, old, new) of each field an update changes."""
        if self.project is None:
            return []
        found = []
        for name in self.changes:
            label = Listing._meta.get_field(name).verbose_name
            if name == "secondary_tracks":
                old = display(name, list(self.project.secondary_tracks.all()))
                new = display(name, self.secondary or [])
            elif name == "logo":
                old, new = (
                    display(name, self.project.logo.name),
                    display(name, self.logo[0] if self.logo else ""),
                )
            else:
                old, new = display(name, getattr(self.project, name)), display(name, self.values[name])
            found.append((label, old, new))
        return found


# The fields every row of the preview shows.
PREVIEWED = ("track", "hq_country", "stage", "status")
UNKNOWN = "—"


def display(name, value):
    """A listing field's value as a person reads it (labels, names; "—" for unknown)."""
    if name in ("secondary_tracks",):
        return ", ".join(track.name for track in value) or UNKNOWN
    field = Listing._meta.get_field(name)
    if name == "track":
        return value.name if value else UNKNOWN
    if name == "hq_country":
        code = str(getattr(value, "code", value) or "")
        return str(countries.name(code) or code) if code else UNKNOWN
    if isinstance(field, MultiChoiceField):
        return ", ".join(str(label) for label in field.labels(value)) or UNKNOWN
    if field.choices:
        return str(dict(field.choices).get(value, value)) if value else UNKNOWN
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value) if value not in (None, "") else UNKNOWN


@dataclass
class Plan:
    format: str
    encoding: str
    columns: list  # the schema columns found
    warnings: list
    rows: list

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        actions = ("create", "update", "unchanged", "skip", "error")
        counts = {action: self.count(action) for action in actions}
        counts["flagged"] = sum(1 for row in self.rows if row.flagged)
        counts["rows"] = len(self.rows)
        return counts

    @property
    def has_errors(self):
        return any(row.action == "error" for row in self.rows)

    def totals(self, name):
        """[(shown value, rows)] of the rows that will be on the map (new, updated, unchanged)
        by `name` (track or hq_country), most rows first: what the file brings, whole."""
        counted = Counter(
            row.shown[name] for row in self.rows if row.action in ("create", "update", "unchanged")
        )
        return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class Result:
    plan: Plan
    applied: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    message: str = ""

    def as_dict(self):
        return {
            "applied": self.applied,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": self.errors,
            "message": self.message,
        }


# --- Reading ---------------------------------------------------------------------


READ_VERSION = 1  # of what read_file returns; a kept read of another version is read again


def plan_import(data, *, encoding=AUTO, logos=None, public_contact_emails=False, max_rows=None):
    """Read `data` (CSV or XLSX bytes) and say what importing it would do. Writes nothing.
    Raises ImportError_ for a file that cannot be imported, saying why.

    `public_contact_emails`: the file's contact addresses are public ones (an open-data
    export), so they are shown, unless a `show_contact_email` column says otherwise."""
    return plan_from(
        read_file(
            data,
            encoding=encoding,
            logos=logos,
            public_contact_emails=public_contact_emails,
            max_rows=max_rows,
        )
    )


def read_file(data, *, encoding=AUTO, logos=None, public_contact_emails=False, max_rows=None):
    """What a plan takes from the file alone, as plain data (JSON) to keep: its format,
    columns and warnings, and each row's checked values, errors and logo (named by its
    member in the ZIP, read and decoded here). All the work on the file's bytes and the
    logos; nothing is matched with the map yet (plan_from). Raises ImportError_."""
    max_rows = max_rows or settings.IMPORT_MAX_ROWS
    try:
        table = read_table(data, encoding=encoding, max_rows=max_rows)
    except SpreadsheetError as error:
        raise ImportError_(str(error)) from None
    columns, warnings = _map_header(table.header)
    missing = [name for name in REQUIRED if name not in columns.values()]
    if missing:
        raise ImportError_(
            _(
                "The file has no %(columns)s column. The first row must name the columns, e.g. name,track,website."
            )
            % {"columns": _join(missing)}
        )
    if not table.rows:
        raise ImportError_(_("The file has a header but no rows."))
    archive = open_logos(logos)
    choices = _Choices()
    rows = [
        _read_row(line, cells, columns, choices, archive, formulas=table.formula_cells)
        for line, cells in table.rows
    ]
    if public_contact_emails and "show_contact_email" not in columns.values():
        for row in rows:
            if "contact_email" in row.values:
                row.values["show_contact_email"] = bool(row.values["contact_email"])
    return {
        "version": READ_VERSION,
        "format": table.format,
        "encoding": table.encoding,
        "columns": sorted(set(columns.values()), key=COLUMNS.index),
        "warnings": warnings,
        "rows": [_kept(row) for row in rows],
    }


def plan_from(read):
    """The plan of a file `read` by read_file: its rows matched against the map as it is now
    (a few queries; no file work). Writes nothing."""
    pks = set()
    for kept in read["rows"]:
        pks.update(kept["secondary"] or ())
        if "track" in kept["values"]:
            pks.add(kept["values"]["track"])
    tracks = Track.objects.in_bulk(pks)
    rows = [_unkept(kept, tracks) for kept in read["rows"]]
    _match(rows, set(read["columns"]))
    return Plan(read["format"], read["encoding"], list(read["columns"]), list(read["warnings"]), rows)


def _kept(row):
    """A row as read_file keeps it (before matching): JSON, tracks by their keys."""
    values = {name: value.pk if name == "track" else value for name, value in row.values.items()}
    if values.get("status_since"):
        values["status_since"] = values["status_since"].isoformat()
    return {
        "line": row.line,
        "name": row.name,
        "values": values,
        "secondary": None if row.secondary is None else [track.pk for track in row.secondary],
        "logo": list(row.logo) if row.logo else None,
        "logo_missing": row.logo_missing,
        "errors": row.errors,
        "warnings": row.warnings,
        "failed": sorted(row.failed),
    }


def _unkept(kept, tracks):
    """A fresh Row of a kept one: matching adds to its lists, so each plan has its own."""
    row = Row(
        line=kept["line"],
        name=kept["name"],
        values=dict(kept["values"]),
        logo=tuple(kept["logo"]) if kept["logo"] else None,
        logo_missing=kept["logo_missing"],
        errors=list(kept["errors"]),
        warnings=list(kept["warnings"]),
        failed=set(kept["failed"]),
    )
    if row.values.get("status_since"):
        row.values["status_since"] = date.fromisoformat(row.values["status_since"])
    # A track deleted since the file was read is unknown now, like a name no track has.
    if "track" in row.values:
        pk = row.values.pop("track")
        if pk in tracks:
            row.values["track"] = tracks[pk]
        else:
            row.fail("track", _("unknown track “%(value)s”.") % {"value": pk})
    if kept["secondary"] is not None:
        row.secondary = [tracks[pk] for pk in kept["secondary"] if pk in tracks]
        for pk in kept["secondary"]:
            if pk not in tracks:
                row.fail("secondary_tracks", _("unknown track “%(value)s”.") % {"value": pk})
    return row


def _join(names):
    return ", ".join(f"“{name}”" for name in names)


def _label_names(field_name):
    """The English and Chinese labels of a schema field, lower-cased, for header matching."""
    field = Listing._meta.get_field(field_name)
    names = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.add(str(field.verbose_name).strip().lower())
    return names


def _header_key(text):
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", str(text)).strip().lower().lstrip("\ufeff"))


def _map_header(header):
    """({column index: field name}, [warnings])."""
    aliases = {}
    for name in COLUMNS:
        aliases[name] = name
        for label in _label_names(name):
            aliases.setdefault(_header_key(label), name)
    columns, unknown, repeated = {}, [], []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        if not key:
            continue
        name = aliases.get(key)
        if name is None:
            if key not in KNOWN_EXTRA:
                unknown.append(str(cell).strip())
        elif name in columns.values():
            repeated.append(str(cell).strip())
        else:
            columns[index] = name
    warnings = []
    if unknown:
        warnings.append(_("Unknown columns, ignored: %(columns)s.") % {"columns": _join(unknown)})
    if repeated:
        warnings.append(
            _("Repeated columns, only the first is used: %(columns)s.") % {"columns": _join(repeated)}
        )
    return columns, warnings


class _Choices:
    """Lookups from what people write (codes, English or Chinese labels) to codes."""

    def __init__(self):
        self.tracks = {}
        for track in Track.objects.all():
            for key in (track.slug, track.name_en, track.name_zh):
                self.tracks[_fold(key)] = track
        self.fields = {}
        for model_field in Listing._meta.local_fields:
            options = getattr(model_field, "multi_choices", None) or model_field.choices
            if options:
                lookup = {}
                for code, label in options:
                    lookup[_choice_key(code)] = code
                    for language in ("en", "zh-hans"):
                        with translation.override(language):
                            lookup.setdefault(_choice_key(str(label)), code)
                self.fields[model_field.name] = lookup

    def codes(self, field_name):
        return sorted(set(self.fields[field_name].values()))


def _fold(text):
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def _choice_key(text):
    """ "Series A", "series_a", "A 轮" and "A轮" are each written both ways."""
    return re.sub(r"[\s_\-]+", "", _fold(text))


class LogoArchive(dict):
    """{lower-cased file name: index of its member} of a ZIP of logos, its `zip` (a ZipFile),
    and `checked`: each logo already read and inspected for an earlier row (its (name,
    index), or the error), so that a logo many rows name is unpacked and checked once."""

    def __init__(self, zip_file, members):
        super().__init__(members)
        self.zip = zip_file
        self.checked = {}

    def read(self, index):
        """The bytes of member `index` (at most LOGO_MAX_BYTES + 1 of them); a damaged member
        is a ValidationError."""
        info = self.zip.infolist()[index]
        try:
            with self.zip.open(info) as member:
                return member.read(LOGO_MAX_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
            # A damaged member (a wrong CRC, a size that lies, a cut stream), an encrypted one or
            # one compressed in a way zipfile cannot read: an error of this row, not of the page.
            raise ValidationError(
                _("The logo file is damaged or incomplete; please export it again.")
            ) from None


def open_logos(logos):
    """The LogoArchive of a ZIP of logos (None without one); raises ImportError_ for a file
    that is not a usable ZIP. The admin checks an upload with it before planning."""
    if not logos:
        return None
    try:
        archive = zipfile.ZipFile(BytesIO(logos))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportError_(_("The logos file is not a ZIP archive.")) from None
    if sum(1 for info in members if not info.is_dir()) > ZIP_MAX_MEMBERS:
        raise ImportError_(_("The ZIP archive holds too many files."))
    by_name = {}
    for index, info in enumerate(members):
        base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if base and not base.startswith(".") and not info.is_dir():
            by_name.setdefault(base.casefold(), index)
    return LogoArchive(archive, by_name)


def _text(raw):
    """A cell as we store it: trimmed, with the apostrophe our CSV exports put before
    text that starts like a formula taken off again (the round trip)."""
    text = str(raw).strip()
    if text.startswith("'") and text[1:2] in FORMULA_PREFIXES and len(text) > 1:
        return text[1:]
    return text


def _read_row(line, cells, columns, choices, archive, formulas):
    row = Row(line=line)
    values = {}
    for index, name in columns.items():
        raw = cells[index] if index < len(cells) else ""
        if (line, index) in formulas or (str(raw).lstrip().startswith("=") and len(str(raw).strip()) > 1):
            message = _("“%(value)s” looks like a spreadsheet formula. Import values, not formulas.")
            row.fail(name, message % {"value": _short(raw)})
            continue
        try:
            _read_cell(row, values, name, _text(raw), choices, archive)
        except ValidationError as error:
            for message in error.messages:
                row.fail(name, message)
    row.name = values.get("name", "")
    row.values = values
    _check_fields(row)
    return row


def _short(text, length=40):
    text = str(text).strip()
    return text if len(text) <= length else text[: length - 1] + "…"


def _read_cell(row, values, name, text, choices, archive):
    if name == "track":
        if not text:
            raise ValidationError(_("required."))
        track = choices.tracks.get(_fold(text))
        if track is None:
            raise ValidationError(_("unknown track “%(value)s”.") % {"value": _short(text)})
        values["track"] = track
    elif name == "secondary_tracks":
        tracks = []
        for part in _split(text):
            track = choices.tracks.get(_fold(part))
            if track is None:
                raise ValidationError(_("unknown track “%(value)s”.") % {"value": _short(part)})
            if track not in tracks:
                tracks.append(track)
        row.secondary = tracks
    elif name == "logo":
        if text:
            row.logo = _find_logo(row, text, archive)
    elif name == "founded_year":
        values[name] = _year(text)
    elif name == "status_since":
        values[name] = _date(text)
    elif name == "hq_country":
        values[name] = _country(text)
    elif name == "show_contact_email":
        values[name] = _boolean(text)
    elif name == "slug":
        if text:
            validate_slug(text)
            values[name] = text.lower()
    else:
        field = Listing._meta.get_field(name)
        if isinstance(field, MultiChoiceField):
            values[name] = [_choice(choices, name, part) for part in _split(text)]
        elif field.choices:
            values[name] = _choice(choices, name, text) if text else field.get_default()
        else:
            values[name] = text


def _split(text):
    return [part for part in SPLIT.split(text) if part] if text else []


def _choice(choices, name, text):
    code = choices.fields[name].get(_choice_key(text))
    if code is None:
        raise ValidationError(
            _("unknown value “%(value)s” (one of: %(codes)s).")
            % {"value": _short(text), "codes": ", ".join(choices.codes(name))}
        )
    return code


def _year(text):
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(?:\.0+|年)?", text)
    if not match:
        raise ValidationError(_("“%(value)s” is not a year.") % {"value": _short(text)})
    return int(match.group(1))


def _date(text):
    """A day as YYYY-MM-DD (or with slashes, or a spreadsheet's date at midnight); never a
    day made up from a month."""
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?", text)
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        pass
    raise ValidationError(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": _short(text)})


def _country(text):
    if not text:
        return ""  # unknown: the file does not say (never a default)
    if len(text) == 2 and text.upper() in countries:
        return text.upper()
    for language in ("en", "zh-hans"):
        code = countries.by_name(text, language=language)
        if code:
            return code
    aliases = {"中国": "CN", "中国大陆": "CN", "美国": "US", "英国": "GB", "香港": "HK", "台湾": "TW"}
    if text in aliases:
        return aliases[text]
    raise ValidationError(
        _("unknown country “%(value)s” (use a two-letter code such as CN).") % {"value": _short(text)}
    )


def _boolean(text):
    folded = _fold(text)
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise ValidationError(_("“%(value)s” is neither yes nor no.") % {"value": _short(text)})


def _find_logo(row, text, archive):
    base = text.replace("\\", "/").rsplit("/", 1)[-1]
    if archive is None:
        row.logo_missing = _(
            "logo: “%(file)s” was not uploaded (no ZIP of logos); imported without a logo."
        ) % {"file": _short(base)}
        row.warnings.append(row.logo_missing)
        return None
    key = base.casefold()
    index = archive.get(key)
    if index is None:
        row.logo_missing = _("logo: “%(file)s” is not in the ZIP; imported without a logo.") % {
            "file": _short(base)
        }
        row.warnings.append(row.logo_missing)
        return None
    if key not in archive.checked:
        try:
            archive.checked[key] = _read_logo(base, archive, index)
        except ValidationError as error:
            archive.checked[key] = error
    if isinstance(archive.checked[key], ValidationError):
        raise archive.checked[key]
    return archive.checked[key]


def _read_logo(base, archive, index):
    """(name, index) of a logo in the ZIP, read and inspected like a founder's upload (its
    pixels decoded); the bytes are read again when the import stores it."""
    if archive.zip.infolist()[index].file_size > LOGO_MAX_BYTES:
        raise ValidationError(_("“%(file)s” is larger than 2 MB.") % {"file": _short(base)})
    content = archive.read(index)
    if len(content) > LOGO_MAX_BYTES:
        raise ValidationError(_("“%(file)s” is larger than 2 MB.") % {"file": _short(base)})
    from registry.images import inspect_logo  # the same checks as a founder's upload

    inspect_logo(ContentFile(content, name=base))
    return base, index


def _check_fields(row):
    """The model's own field rules (lengths, URL, year, choices), for the columns given;
    only name and track may not be empty."""
    if not row.values.get("name") and "name" not in row.failed:
        row.fail("name", _("required."))
    if "track" not in row.values and "track" not in row.failed:
        row.fail("track", _("required."))
    values = {name: value for name, value in row.values.items() if name != "slug"}
    probe = Project(**values)
    exclude = [name for name in COLUMNS if name not in values or name in ALREADY_CHECKED]
    exclude += ["logo", "search_tokens", "owner"]
    try:
        probe.clean_fields(exclude=exclude)
    except ValidationError as error:
        for name, problems in error.error_dict.items():
            for problem in problems:
                if problem.code == "blank":  # only name and track are required: checked above
                    continue
                for message in problem.messages:
                    row.fail(name, message)
    if row.secondary is not None and "track" in row.values:
        for message in secondary_track_errors(row.values["track"], row.secondary):
            row.fail("secondary_tracks", message)
    if "status" in row.values and "status" not in row.failed:
        for name, messages in end_state_errors(row.values).items():
            if name in row.failed:  # its cell was not understood: that message says it already
                continue
            for message in messages:
                row.fail(name, message)


# --- Matching ----------------------------------------------------------------------


def normalised_name(name):
    """The key names are matched by: the one stored with every listing (Project.name_key)."""
    return name_key(name)


def _key(values):
    if values.get("slug"):
        return ("slug", values["slug"])
    return ("name", normalised_name(values.get("name", "")), normalised_website(values.get("website", "")))


def _match(rows, columns):
    """Set each row's action: error, create, update, unchanged or skip; flag look-alikes."""
    held = _Holdings(rows)
    seen = {}  # key -> first line
    by_site, by_name = {}, {}
    for row in rows:
        if row.errors:
            row.action = "error"
            continue
        key = _key(row.values)
        if key in seen:
            row.errors.append(_("The same project as line %(line)s.") % {"line": seen[key]})
            row.action = "error"
            continue
        seen[key] = row.line
        row.project = held.find(key)
        if row.project is not None and row.project.logo and row.logo_missing:
            row.warnings.remove(row.logo_missing)  # it keeps its logo (an export names the stored file)
        if row.project is None:
            row.action = "create"
            row.similar = held.similar(row.values)
            site = normalised_website(row.values.get("website", ""))
            name = normalised_name(row.values["name"])
            for other, why in (
                (by_site.get(site) if site else None, _("same website")),
                (by_name.get(name), _("same name")),
            ):
                if other is not None:
                    row.similar.append(_("line %(line)s (%(why)s)") % {"line": other, "why": why})
            if site:
                by_site.setdefault(site, row.line)
            by_name.setdefault(name, row.line)
        elif row.project.owner_id or row.project.listed_by == Project.ListedBy.FOUNDER:
            row.action = "skip"
            row.warnings.append(
                _("“%(name)s” is kept up to date by its founder; the import leaves it as it is.")
                % {"name": row.project.name}
            )
        else:
            row.changes = _changes(row, row.project, columns)
            row.action = "update" if row.changes else "unchanged"


class _Holdings:
    """What the database holds that rows could match or resemble, read in a few queries."""

    def __init__(self, rows):
        slugs = {row.values["slug"] for row in rows if row.values.get("slug")}
        names = {normalised_name(row.values["name"]) for row in rows if row.values.get("name")}
        sites = {normalised_website(row.values.get("website", "")) for row in rows} - {""}
        projects = Project.objects.select_related("track").prefetch_related("secondary_tracks")
        self.by_slug = {p.slug: p for p in projects.filter(slug__in=slugs)} if slugs else {}
        self.by_key, self.by_name, self.by_site = {}, {}, {}
        for project in self._by_names(projects, names):
            key = ("name", normalised_name(project.name), normalised_website(project.website))
            self.by_key.setdefault(key, project)
            self.by_name.setdefault(normalised_name(project.name), project)
        # Websites: every listing's website is read once (two short columns), then compared in Python.
        if sites:
            for pk, name, website in (
                Project.objects.exclude(website="")
                .values_list("pk", "name", "website")
                .iterator(chunk_size=5000)
            ):
                site = normalised_website(website)
                if site in sites:
                    self.by_site.setdefault(site, (pk, name))
        self.open_names = {}
        self.open_sites = {}
        for pk, name, website in (
            Submission.objects.open().filter(kind=Submission.Kind.NEW).values_list("pk", "name", "website")
        ):
            self.open_names.setdefault(normalised_name(name), pk)
            if website:
                self.open_sites.setdefault(normalised_website(website), pk)

    @staticmethod
    def _by_names(projects, names):
        found, names = [], sorted(names)
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            found.extend(projects.filter(name_key__in=chunk))
        return found

    def find(self, key):
        return self.by_slug.get(key[1]) if key[0] == "slug" else self.by_key.get(key)

    def similar(self, values):
        notes = []
        site = normalised_website(values.get("website", ""))
        name = normalised_name(values["name"])
        if site and site in self.by_site:
            pk, other = self.by_site[site]
            notes.append(_("“%(name)s” on the map (same website)") % {"name": other})
        if name in self.by_name:
            notes.append(_("“%(name)s” on the map (same name)") % {"name": self.by_name[name].name})
        for lookup, why in ((self.open_sites, _("same website")), (self.open_names, _("same name"))):
            pk = lookup.get(site if lookup is self.open_sites else name)
            if pk and (lookup is not self.open_sites or site):
                notes.append(_("submission #%(pk)s under review (%(why)s)") % {"pk": pk, "why": why})
        return notes


def _comparable(field_name, value):
    field = Listing._meta.get_field(field_name)
    if isinstance(field, MultiChoiceField):
        return field.get_prep_value(value)
    if field_name == "track":
        return value.pk if value else None
    if field_name == "hq_country":
        return str(getattr(value, "code", value) or "")
    return value


def _changes(row, project, columns):
    changes = []
    for name, value in row.values.items():
        if name == "slug":
            continue
        if _comparable(name, value) != _comparable(name, getattr(project, name)):
            changes.append(name)
    if row.secondary is not None and {t.pk for t in row.secondary} != {
        t.pk for t in project.secondary_tracks.all()
    }:
        changes.append("secondary_tracks")
    if row.logo and not project.logo:
        changes.append("logo")
    return changes


# --- Writing -----------------------------------------------------------------------


def apply_import(
    data,
    *,
    actor=None,
    encoding=AUTO,
    logos=None,
    public_contact_emails=False,
    source="",
    all_or_nothing=False,
    include_flagged=(),
    dry_run=False,
    origin=None,
    publish=True,
    read=None,
):
    """Plan `data` again and write it, all in one transaction. `read`: what read_file gave
    for `data` (and these `logos`, `encoding` and `public_contact_emails`), kept since the
    preview: then the file is not read again, but its rows are still matched against the map
    as it is now (the database may have changed since the preview). `include_flagged`: lines
    of flagged rows the editor wants imported anyway (others are skipped). Logos are
    re-encoded and stored here, from `logos`. Returns a Result."""
    include_flagged = {int(line) for line in include_flagged}
    stored = {}  # logo files written (by name in the ZIP), deleted again if the transaction fails
    if read is None:
        read = read_file(data, encoding=encoding, logos=logos, public_contact_emails=public_contact_emails)
    archive = open_logos(logos)
    try:
        with transaction.atomic():
            plan = plan_from(read)
            result = Result(plan=plan, applied=False)
            result.errors = plan.count("error")
            result.unchanged = plan.count("unchanged")
            if all_or_nothing and plan.has_errors:
                result.message = _(
                    "Nothing was imported: %(count)s rows have errors, and all-or-nothing was asked for."
                ) % {"count": result.errors}
                return result
            for row in plan.rows:
                if row.flagged and row.line not in include_flagged:
                    row.action = "skip"
                    row.warnings.append(_("Looks like another listing; skipped."))
            result.skipped = plan.count("skip")
            if dry_run:
                result.message = _("Dry run: nothing was written.")
                return result
            creates = [row for row in plan.rows if row.action == "create"]
            projects = _create_all(
                creates, timezone.now(), stored, archive, origin=origin or Origin(), publish=publish
            )
            events = [
                audit.entry(
                    project=project,
                    by=actor,
                    action="import",
                    detail=_detail(source, row),
                    changed_fields=_given(row),
                )
                for project, row in zip(projects, creates, strict=True)
            ]
            for row in plan.rows:
                if row.action == "update":
                    _update(row, stored, archive)
                    events.append(
                        audit.entry(
                            project=row.project,
                            by=actor,
                            action="import_update",
                            detail=_detail(source, row),
                            changed_fields=row.changes,
                        )
                    )
            result.created, result.updated = len(creates), plan.count("update")
            audit.record_all(events)
            result.applied = True
            result.message = (
                _(
                    "Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, %(skipped)s skipped, %(errors)s with errors."
                )
                % result.as_dict()
            )
            return result
    except BaseException:
        for name in stored.values():
            default_storage.delete(name)
            default_storage.delete(thumbnail_name(name))
        raise


def _detail(source, row):
    return _("line %(line)s of %(file)s") % {"line": row.line, "file": source or _("an import")}


def _given(row):
    """The fields a new row fills in: the changed fields of its Event."""
    given = [name for name, value in row.values.items() if value not in (None, "", [])]
    return given + ["secondary_tracks"] * bool(row.secondary) + ["logo"] * bool(row.logo)


def _assign(project, row):
    for name, value in row.values.items():
        if name == "slug" and project.pk:
            continue
        setattr(project, name, value)


def _store_logo(row, stored, archive):
    """The stored name of the row's logo: re-encoded from the ZIP and written once per
    import, shared by every row naming the same file (nothing deletes a replaced logo, so
    sharing is safe). It was checked when the file was read; should it fail now (another
    Pillow since the preview), the import stops with the row's line and writes nothing."""
    file_name, index = row.logo
    key = file_name.casefold()
    if key not in stored:
        try:
            stored[key] = save_logo(ContentFile(archive.read(index), name=file_name))
        except ValidationError as error:
            raise ImportError_(
                _("Line %(line)s: %(error)s") % {"line": row.line, "error": " ".join(error.messages)}
            ) from None
    return stored[key]


@dataclass(frozen=True)
class Origin:
    """Where a list comes from (its publisher's name, an address, its licence), credited on
    every listing it brings (Project.source_*)."""

    name: str = ""
    url: str = ""
    licence: str = ""


def _create_all(rows, now, stored, archive, *, origin, publish):
    """New listings for `rows`, inserted in batches (a row's own save() and secondary-track
    set() would cost several queries each): published now as listed by the editors, or held
    unpublished (`publish` false) for an editor to publish later."""
    used = set()

    def taken(slug):
        return slug in used or Project.objects.filter(slug=slug).exists()

    projects = []
    for row in rows:
        project = Project(
            listed_by=Project.ListedBy.EDITORS,
            owner=None,
            verified=False,
            source_name=origin.name,
            source_url=origin.url,
            source_licence=origin.licence,
        )
        if publish:
            project.publish(at=now)
        _assign(project, row)
        if not project.slug:
            project.slug = unique_slug(project.name, project.name_en, taken=taken)
        used.add(project.slug)
        if row.logo:
            project.logo.name = _store_logo(row, stored, archive)
        projects.append(project)
    Project.objects.bulk_create(projects, batch_size=500)
    Through = Project.secondary_tracks.through
    links = [
        Through(project_id=project.pk, track_id=track.pk)
        for project, row in zip(projects, rows, strict=True)
        for track in row.secondary or ()
    ]
    Through.objects.bulk_create(links, batch_size=1000)
    published.changed()  # bulk inserts send no signals
    return projects


def _update(row, stored, archive):
    project = row.project
    _assign(project, row)
    if "logo" in row.changes:
        project.logo.name = _store_logo(row, stored, archive)
    project.save()
    if "secondary_tracks" in row.changes:
        project.secondary_tracks.set(row.secondary)
