"""Reading and writing the tables people keep their lists in: CSV (any common encoding)
and XLSX (openpyxl). Only the file format lives here; what the columns mean is
review.importing's business.

`read_table(data, encoding="auto")` returns a Table: header cells and rows of text,
each row with its line (CSV) or sheet row number (XLSX) for error reports. It refuses,
with a SpreadsheetError that says why, anything it cannot read as a table: an empty
file, an old binary .xls, a PDF or image, text in an encoding it cannot decode, or
more rows than `max_rows` (counted before anything else is done with them). A workbook's
parts are sized up before openpyxl parses them (openpyxl reads the whole shared-strings
table, and every <row> element of a sheet, whatever a list needs): more shared strings
than `max_rows` rows can use, more <row> elements than twice `max_rows`, or more cells
than XLSX_CELLS_PER_ROW a row, is refused.
"""

import csv
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.packaging.manifest import Manifest
from openpyxl.xml.constants import SHARED_STRINGS
from openpyxl.xml.functions import fromstring

AUTO = "auto"
ENCODINGS = ("utf-8", "gb18030", "big5", "utf-16")  # gb18030 is a superset of GBK and GB2312
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Files that are clearly not a table, named in the refusal.
OTHER_FORMATS = {
    b"\xd0\xcf\x11\xe0": "XLS (Excel 97-2003)",
    b"%PDF-": "PDF",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"\x1f\x8b": "GZIP",
    b"Rar!": "RAR",
    b"7z\xbc\xaf": "7Z",
}


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; str() says why, for the person who uploaded it."""


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    encoding: str  # the text encoding used ("" for XLSX)
    header: list
    rows: list = field(default_factory=list)  # [(line_number, [cell, ...]), ...]
    formula_cells: set = field(default_factory=set)  # {(line_number, column_index)} in XLSX


def read_table(data, *, encoding=AUTO, max_rows=10_000):
    """Parse `data` (bytes) as XLSX or CSV. Raises SpreadsheetError."""
    if not data or not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    for magic, name in OTHER_FORMATS.items():
        if data.startswith(magic):
            if name.startswith("XLS"):
                raise SpreadsheetError(
                    _(
                        "This is an old Excel 97-2003 file (.xls). Save it as .xlsx or CSV and upload it again."
                    )
                )
            raise SpreadsheetError(
                _("This is a %(format)s file, not a CSV or XLSX table.") % {"format": name}
            )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, max_rows)
    return _read_csv(data, encoding, max_rows)


def decode(data, encoding=AUTO):
    """(text, encoding): `data` decoded with `encoding`, or the first that fits when "auto":
    UTF-16 when it starts with its byte-order mark, else UTF-8 (with or without a BOM),
    else GB18030 (Chinese Excel's default on Windows)."""
    if encoding != AUTO:
        try:
            codec = "utf-8-sig" if encoding == "utf-8" else encoding
            return data.decode(codec), encoding
        except (UnicodeDecodeError, LookupError):
            raise SpreadsheetError(
                _("The file cannot be read as %(encoding)s. Choose another encoding, or “detect”.")
                % {"encoding": encoding.upper()}
            ) from None
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    candidates = ["utf-16"] if utf16 else ["utf-8", "gb18030"]
    for candidate in candidates:
        try:
            return data.decode("utf-8-sig" if candidate == "utf-8" else candidate), candidate
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        _("The file is neither UTF-8 nor GB18030/GBK text. Save it as CSV UTF-8, or choose its encoding.")
    )


def _read_csv(data, encoding, max_rows):
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise SpreadsheetError(_("This is a binary file, not a CSV or XLSX table."))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise SpreadsheetError(_("The first line must name the columns, e.g. name,track,website."))
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= max_rows:
                raise _too_many_rows(max_rows)
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise SpreadsheetError(
            _("Line %(line)s cannot be read as CSV: %(error)s") % {"line": reader.line_num, "error": error}
        ) from None
    return Table("csv", used, header, rows)


# What a workbook may unpack to (its parts' declared sizes, which bound what zipfile
# inflates), and the columns read: a few kilobytes of XML must not cost minutes of CPU.
XLSX_MAX_UNPACKED_MB = 200
XLSX_MAX_COLUMNS = 256
# openpyxl parses the whole shared-strings table (every distinct text of the workbook) before
# the first row is read, and every <row> element of the sheet, empty or not: a million of
# either costs 20-30 s and 100+ MB from a 2.5 MB file. Before that, the elements are counted
# in the raw XML (a scan that stops at the limit): a list of `max_rows` rows may bring up to
# XLSX_STRINGS_PER_ROW distinct texts a row (200,000 for 10,000 rows; the 472-row real list
# has at most 6 a row, its columns), up to twice `max_rows` rows and XLSX_CELLS_PER_ROW cells a row,
# empty ones included.
XLSX_STRINGS_PER_ROW = 20
XLSX_CELLS_PER_ROW = 100  # <c> elements, empty ones included: a million cost about 2 s
XLSX_MAX_MANIFEST_BYTES = 1024 * 1024  # [Content_Types].xml, parsed whole (a real one: a few KB)


def _read_xlsx(data, max_rows):
    _check_parts(data, max_rows)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise SpreadsheetError(
            _("This ZIP file is not an XLSX workbook, or the workbook is damaged.")
        ) from None
    except Exception:  # openpyxl raises many kinds of errors on damaged XML
        raise SpreadsheetError(_("The workbook is damaged and cannot be read.")) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SpreadsheetError(_("The workbook has no sheet."))
        # The sheet's declared size (<dimension ref="A1:XFD1048576"/>) is not trusted: read
        # only the rows and cells there are, and at most XLSX_MAX_COLUMNS of them.
        sheet.reset_dimensions()
        rows, formulas, header = [], set(), None
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = row[:XLSX_MAX_COLUMNS]
            if not any(value is not None for value in cells):
                continue
            values = ["" if value is None else _cell_text(value) for value in cells]
            if not any(value.strip() for value in values):
                continue
            if header is None:
                header = values
                continue
            if len(rows) >= max_rows:
                raise _too_many_rows(max_rows)
            formulas.update((number, index) for index, value in enumerate(cells) if _is_formula(value))
            rows.append((number, values))
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError(_("The workbook is damaged and cannot be read.")) from None
    finally:
        workbook.close()
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    return Table("xlsx", "", header, rows, formulas)


def _elements(source, tag, limit):
    """How many <tag> elements (any namespace prefix) the XML stream `source` holds, counted
    up to `limit` + 1: a scan of the raw bytes, a few milliseconds a megabyte, that stops as
    soon as the limit is passed (a "<si>" inside CDATA would count too: a refusal, never a
    pass)."""
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + tag + rb"[\s/>]")
    count, tail = 0, b""
    while count <= limit:
        chunk = source.read(1024 * 1024)
        if not chunk:
            break
        text = tail + chunk
        count += len(pattern.findall(text))
        # An element cut at the chunk's end is counted with the next chunk, and only there.
        cut = text.rfind(b"<", max(0, len(text) - 64))
        if cut != -1 and pattern.match(text, cut) is None:
            tail = text[cut:]
            continue
        tail = b""
    return count


def _check_parts(data, max_rows):
    """Refuse, before openpyxl parses anything, a workbook that unpacks to too much, whose
    shared-strings table holds more strings than `max_rows` rows may bring, or whose parts
    hold more than twice `max_rows` <row> elements (every part is counted: openpyxl finds
    the sheets through the workbook's relations and parses each one whole when it does not
    declare its size). A file zipfile cannot read is left to load_workbook to name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        if sum(info.file_size for info in members) > XLSX_MAX_UNPACKED_MB * 1024 * 1024:
            raise SpreadsheetError(
                _("The workbook unpacks to more than %(size)s MB. Split it into smaller files.")
                % {"size": XLSX_MAX_UNPACKED_MB}
            )
        strings = _shared_strings_part(archive)
        limit = max_rows * XLSX_STRINGS_PER_ROW
        if strings is not None and _count(archive, strings, {b"si": limit})[b"si"] > limit:
            raise SpreadsheetError(
                _(
                    "The workbook holds more than %(max)s different texts; a list of at most %(rows)s rows "
                    "needs far fewer. Copy only the list into a new workbook and upload that."
                )
                % {"max": f"{limit:,}", "rows": f"{max_rows:,}"}
            )
        rows, cells = 2 * max_rows, max_rows * XLSX_CELLS_PER_ROW  # what is left of each
        for info in members:
            found = _count(archive, info, {b"row": rows, b"c": cells})
            rows, cells = rows - found[b"row"], cells - found[b"c"]
            if rows < 0:
                raise SpreadsheetError(
                    _(
                        "The workbook has more than %(max)s rows, empty ones included. Delete the empty rows "
                        "below the list (and any other sheet), or split it into files of at most %(rows)s rows."
                    )
                    % {"max": f"{2 * max_rows:,}", "rows": f"{max_rows:,}"}
                )
            if cells < 0:
                raise SpreadsheetError(
                    _(
                        "The workbook has more than %(max)s cells, empty ones included. Delete the empty "
                        "columns and rows around the list (and any other sheet), and upload it again."
                    )
                    % {"max": f"{max_rows * XLSX_CELLS_PER_ROW:,}"}
                )


def _shared_strings_part(archive):
    """The ZipInfo of the shared-strings table openpyxl would read (the one [Content_Types].xml
    names), or None."""
    try:
        manifest = archive.getinfo("[Content_Types].xml")
        if manifest.file_size > XLSX_MAX_MANIFEST_BYTES:
            raise SpreadsheetError(_("The workbook is damaged and cannot be read."))
        part = Manifest.from_tree(fromstring(archive.read(manifest))).find(SHARED_STRINGS)
        return archive.getinfo(part.PartName[1:]) if part is not None else None
    except SpreadsheetError:
        raise
    except Exception:  # no or damaged manifest, a part it names that is not there: load_workbook's to say
        return None


def _count(archive, info, limits):
    """{tag: how many <tag> elements (any namespace prefix) the member `info` holds}, for the
    tags of `limits` ({tag: limit}): a scan of the raw bytes, a few milliseconds a megabyte,
    stopped as soon as one count passes its limit ("<si>" inside CDATA would count too: a
    refusal, never a pass)."""
    tags = b"|".join(re.escape(tag) for tag in limits)
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(" + tags + rb")[\s/>]")
    counts, tail = dict.fromkeys(limits, 0), b""
    try:
        with archive.open(info) as source:
            while all(counts[tag] <= limit for tag, limit in limits.items()):
                chunk = source.read(1024 * 1024)
                if not chunk:
                    break
                text = tail + chunk
                for tag in pattern.findall(text):
                    counts[tag] += 1
                # An element cut at the chunk's end is counted with the next chunk, and only there.
                cut = text.rfind(b"<", max(0, len(text) - 64))
                tail = text[cut:] if cut != -1 and pattern.match(text, cut) is None else b""
    except Exception:  # a damaged, encrypted or oddly compressed member: load_workbook's to say
        pass
    return counts


def _cell_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float: 2019.0 -> "2019"
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _is_formula(value):
    return isinstance(value, str) and value.startswith("=") and len(value) > 1


def _too_many_rows(max_rows):
    return SpreadsheetError(
        _("The file has more than %(max)s rows. Split it into files of at most %(max)s rows.")
        % {"max": f"{max_rows:,}"}
    )


# --- Writing ---------------------------------------------------------------------


def csv_lines(header, rows, batch=256):
    """The CSV text of `header` and `rows` for a StreamingHttpResponse, starting with a UTF-8
    byte-order mark so that Excel opens Chinese text correctly: the header line, then `batch`
    rows at a time (a write to the client per piece of text, not per row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    rows = iter(rows)
    while True:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(itertools.islice(rows, batch))
        text = buffer.getvalue()
        if not text:
            return
        yield text


def xlsx_bytes(header, rows, *, title="projects"):
    """An XLSX workbook of `header` and `rows` (text cells; never formulas)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.append(header)
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet, value):
    cell = WriteOnlyCell(sheet, value="" if value is None else value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # stored as text: a spreadsheet never runs it
    return cell
