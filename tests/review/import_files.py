"""Small builders of the files editors import: CSV in any encoding, XLSX, ZIPs of logos."""

import csv
import io
import zipfile
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from tests.imagefiles import plain


def csv_file(rows, header=("name", "track"), *, encoding="utf-8", delimiter=","):
    """CSV bytes of `rows` (tuples or dicts) under `header`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header] if isinstance(row, dict) else row)
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows, header=("name", "track"), *, formulas=()):
    """XLSX bytes; `formulas`: (row index, column index, "=...") cells written as formulas."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for row_index, column_index, formula in formulas:
        sheet.cell(row=row_index + 2, column=column_index + 1, value=formula)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_file(members):
    """A ZIP of {name: bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def logo_png(size=(128, 128)):
    return plain("PNG", size=size)


XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/{strings}" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="list" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        "</Relationships>"
    ),
}
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def raw_xlsx(rows, *, strings=(), strings_part="xl/sharedStrings.xml", blank_rows=0):
    """XLSX bytes written part by part with zipfile (fast, and free to be what no spreadsheet
    program would write): `rows` of text cells, each a reference into the shared strings
    (`strings` first, then the cells' own texts); `blank_rows` more <row> elements without
    cells after them; the shared-strings table stored under `strings_part`."""
    table = list(strings)
    index = {}
    sheet = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>']
    for number, row in enumerate(rows, start=1):
        cells = []
        for column, text in enumerate(row):
            if text not in index:
                index[text] = len(table)
                table.append(text)
            cells.append(f'<c r="{get_column_letter(column + 1)}{number}" t="s"><v>{index[text]}</v></c>')
        sheet.append(f'<row r="{number}">{"".join(cells)}</row>')
    sheet.extend(f'<row r="{number}"/>' for number in range(len(rows) + 1, len(rows) + 1 + blank_rows))
    sheet.append("</sheetData></worksheet>")
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in table)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text.replace("{strings}", strings_part))
        archive.writestr("xl/worksheets/sheet1.xml", "".join(sheet))
        archive.writestr(
            strings_part,
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{len(table)}" '
            f'uniqueCount="{len(table)}">{shared}</sst>',
        )
    return buffer.getvalue()
