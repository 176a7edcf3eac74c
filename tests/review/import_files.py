"""Small builders of the files editors import: CSV in any encoding, XLSX, ZIPs of logos."""

import csv
import io
import zipfile

from openpyxl import Workbook

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
