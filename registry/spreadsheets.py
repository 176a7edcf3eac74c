"""Reading and writing the tables people keep their lists in: CSV (any common encoding)
and XLSX (openpyxl). Only the file format lives here; what the columns mean is
review.importing's business.

`read_table(data, encoding="auto")` returns a Table: header cells and rows of text,
each row with its line (CSV) or sheet row number (XLSX) for error reports. It refuses,
with a SpreadsheetError that says why, anything it cannot read as a table: an empty
file, an old binary .xls, a PDF or image, text in an encoding it cannot decode, or
more rows than `max_rows` (counted before anything else is done with them).
"""

import csv
import io
import itertools
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

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


def _read_xlsx(data, max_rows):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        unpacked = 0  # load_workbook below says what is wrong with it
    if unpacked > XLSX_MAX_UNPACKED_MB * 1024 * 1024:
        raise SpreadsheetError(
            _("The workbook unpacks to more than %(size)s MB. Split it into smaller files.")
            % {"size": XLSX_MAX_UNPACKED_MB}
        )
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
