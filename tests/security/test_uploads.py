"""Upload attacks at every place that takes a file, beyond the logo pipeline's own tests
(tests/registry/test_images.py) and the new-submission form's (tests/review/test_views.py):
the founder's edit and update forms, the project admin's logo, the editors' list import
(crafted workbooks, logo ZIPs with lying or damaged members and hostile names) and the
request size limits. Every refusal is an answer (a form error, a row error, a 400), never a
500, and nothing refused is stored: no row, no file under MEDIA_ROOT.
"""

import io
import re
import time
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.reader import excel

from registry import spreadsheets
from registry.models import Project
from review.models import ListImport, Submission
from tests.base import make_project, make_submission, make_user, track
from tests.imagefiles import REFUSALS, plain
from tests.review.import_files import csv_file, logo_png, raw_xlsx, zip_file
from tests.security.helpers import changes, snapshot

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


def media_files():
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def upload(content, name="logo.png"):
    return SimpleUploadedFile(name, content, content_type="image/png")


def complete(**changes):
    data = {
        "name": "灵犀客服",
        "tagline": "A tagline",
        "description": "What it does.",
        "track": track("customer-service").pk,
        "hq_country": "CN",
        "status": "active",
    }
    data.update(changes)
    return data


def editor_client():
    editor = make_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client(headers=EN)
    client.force_login(editor)
    return client


# --- Founder forms other than the new submission -----------------------------------------

REFUSED = list(REFUSALS.items())


@pytest.mark.parametrize(("kind", "refusal"), REFUSED, ids=[kind for kind, _ in REFUSED])
def test_a_bad_logo_is_refused_when_editing_a_draft_and_proposing_an_update(
    founder_client, founder, kind, refusal
):
    build, _code, message = refusal
    draft = make_submission(founder, name="Draft")
    project = make_project(owner=founder, name="Live")
    files, before = media_files(), snapshot()
    for url, data in (
        (reverse("review:submission-edit", args=[draft.pk]), {**complete(), "version": 1, "action": "save"}),
        (reverse("review:project-edit", args=[project.slug]), {**complete(), "action": "submit"}),
    ):
        response = founder_client.post(url, {**data, "logo": upload(build())}, headers=EN)
        assert response.status_code == 200, (kind, url)
        assert message in str(response.context["form"].errors["logo"]), (kind, url)
    assert not changes(before, snapshot()) and media_files() == files


@pytest.mark.parametrize(
    "name",
    ["../../../../tmp/pwned.png", "/etc/passwd", "..\\..\\evil.png", "logo.php", "x.png\x00.php", "无.png"],
)
def test_the_uploaded_file_name_never_reaches_the_disk(founder_client, name):
    response = founder_client.post(
        reverse("review:submission-new"), {**complete(), "logo": upload(logo_png(), name), "action": "save"}
    )
    assert response.status_code == 302
    stored = Submission.objects.get().logo.name
    assert re.fullmatch(r"logos/[0-9a-f]{32}\.webp", stored), stored
    assert not Path("/tmp/pwned.png").exists()


# --- The project admin's logo ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "refusal"), REFUSED, ids=[kind for kind, _ in REFUSED])
def test_the_project_admin_refuses_a_bad_logo_and_stores_nothing(kind, refusal):
    build, _code, message = refusal
    project = make_project(name="Plain", slug="plain")
    data = {
        "name": "Renamed",
        "tagline": project.tagline,
        "description": project.description,
        "track": project.track_id,
        "hq_country": "CN",
        "status": "active",
        "listed_by": project.listed_by,
        "logo": upload(build()),
        "_save": "Save",
    }
    client = editor_client()
    files = media_files()
    response = client.post(reverse("admin:registry_project_change", args=[project.pk]), data)
    assert response.status_code == 200, kind
    assert message in str(response.context["adminform"].form.errors["logo"]), kind
    project.refresh_from_db()
    assert (project.name, project.logo.name) == ("Plain", "") and media_files() == files


# --- The list import: crafted workbooks --------------------------------------------------------


def workbook(rows, *, dimension=None, far_row=None):
    """XLSX bytes of `rows`; `dimension` replaces the sheet's declared size (what a crafted
    file says about itself); `far_row` adds a cell that far down in column A, and one in the
    last column (XFD) of the row above it."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if dimension:
                    text = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', text)
                if far_row:
                    cells = (
                        f'<row r="{far_row - 1}"><c r="XFD{far_row - 1}" t="inlineStr"><is><t>wide</t></is></c></row>'
                        f'<row r="{far_row}"><c r="A{far_row}" t="inlineStr"><is><t>far</t></is></c></row>'
                    )
                    text = text.replace("</sheetData>", cells + "</sheetData>")
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


ROWS = [("name", "track"), ("Imported", "agents")]


@pytest.mark.parametrize(
    ("dimension", "far_row"),
    [("A1:XFD1048576", None), ("A1:XFD1048576", 1048576), ("A1:B3", 1048576), (None, 500_000)],
)
def test_a_workbook_that_claims_to_be_huge_is_read_as_what_it_holds(dimension, far_row):
    """Before: a 5 KB file declaring A1:XFD1048576 had every one of its million rows padded
    to 16,384 columns (minutes of CPU on each preview)."""
    data = workbook(ROWS, dimension=dimension, far_row=far_row)
    assert len(data) < 10_000
    started = time.process_time()
    table = spreadsheets.read_table(data)
    assert time.process_time() - started < 5
    assert table.header == ["name", "track"] and table.rows[0] == (2, ["Imported", "agents"])
    # The far cell in column A is a row; the one in column 16,384 is past what is read.
    assert table.rows[1:] == ([(far_row, ["far"])] if far_row else [])


def test_a_workbook_that_unpacks_to_too_much_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_UNPACKED_MB", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/padding.bin", b"\0" * (2 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 10_000  # a zip bomb in miniature
    with pytest.raises(spreadsheets.SpreadsheetError, match="unpacks to more than 1 MB"):
        spreadsheets.read_table(data)


LIST = [("name", "track"), ("Imported", "agents")]


def test_a_workbook_with_a_million_shared_strings_is_refused_before_openpyxl_reads_them():
    """Before: openpyxl read the whole table first (12-30 s of CPU and +130 MB for a 2.6 MB
    file), whatever the sheet used of it."""
    data = raw_xlsx(LIST, strings=[f"text {n}" for n in range(1_000_000)])
    assert len(data) < 5 * 1024 * 1024
    with (
        mock.patch.object(excel, "read_string_table", wraps=excel.read_string_table) as parse,
        pytest.raises(spreadsheets.SpreadsheetError, match="more than 200,000 different texts"),
    ):
        spreadsheets.read_table(data)
    assert parse.call_count == 0


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/elsewhere/strings.xml"])
def test_the_shared_strings_limit_is_the_rows_times_twenty_wherever_the_table_is(part):
    """The table counted is the one [Content_Types].xml names: the one openpyxl reads."""
    # 10 rows may bring 200 texts: the table's own, then the 4 of the cells.
    at_limit = raw_xlsx(LIST, strings=[f"t{n}" for n in range(10 * 20 - 4)], strings_part=part)
    table = spreadsheets.read_table(at_limit, max_rows=10)
    assert table.rows == [(2, ["Imported", "agents"])]
    over = raw_xlsx(LIST, strings=[f"t{n}" for n in range(10 * 20 - 3)], strings_part=part)
    with pytest.raises(spreadsheets.SpreadsheetError, match="more than 200 different texts"):
        spreadsheets.read_table(over, max_rows=10)


def test_a_workbook_with_a_million_empty_rows_is_refused_before_openpyxl_parses_them():
    """Before: each <row> element was parsed (23 s of CPU for a million, from 2.5 MB)."""
    data = raw_xlsx(LIST, blank_rows=1_000_000)
    with (
        mock.patch.object(excel, "load_workbook", wraps=excel.load_workbook) as parse,
        pytest.raises(spreadsheets.SpreadsheetError, match="more than 20,000 rows, empty ones included"),
    ):
        spreadsheets.read_table(data)
    assert parse.call_count == 0


def test_empty_rows_are_allowed_up_to_twice_the_row_limit():
    assert spreadsheets.read_table(raw_xlsx(LIST, blank_rows=20 - 2), max_rows=10).header == ["name", "track"]
    with pytest.raises(spreadsheets.SpreadsheetError, match="more than 20 rows, empty ones included"):
        spreadsheets.read_table(raw_xlsx(LIST, blank_rows=20 - 1), max_rows=10)


def test_a_workbook_with_too_many_cells_is_refused():
    """A million empty <c/> cells in a few rows cost openpyxl about 2 s from a 22 KB file."""
    # A list of 10 rows may have 20 rows (empty ones too) of 50 cells.
    rows = [("A", "agents", *[""] * 48)] * 10 + [("",) * 50] * 9
    fits = spreadsheets.read_table(raw_xlsx([("name", "track", *[""] * 48), *rows]), max_rows=10)
    assert fits.header[:2] == ["name", "track"] and len(fits.rows) == 10
    with pytest.raises(spreadsheets.SpreadsheetError, match="more than 1,000 cells, empty ones included"):
        spreadsheets.read_table(raw_xlsx([("name", "track", *[""] * 49), *rows]), max_rows=10)


def test_a_workbook_with_too_many_strings_is_refused_next_to_the_file_and_kept_nowhere():
    client = editor_client()
    data = raw_xlsx(LIST, strings=[f"text {n}" for n in range(1_000_000)])
    response = client.post(
        reverse("admin:review_listimport_add"),
        {"file": SimpleUploadedFile("list.xlsx", data), "encoding": "auto"},
        headers=EN,
    )
    assert response.status_code == 200
    (error,) = response.context["form"].errors["file"]
    assert error.startswith("The workbook holds more than 200,000 different texts;")
    assert ListImport.objects.count() == 0


def test_elements_are_counted_exactly_across_the_chunks_the_scan_reads():
    """The scan reads a megabyte at a time: an element cut in two is counted once."""
    members = {}
    for name, element in (
        ("plain.xml", "<si><t>x</t></si>"),
        ("prefixed.xml", "<x:si ><x:t>yz</x:t></x:si>"),
    ):
        members[name] = f"<sst>{element * 300_007}</sst>".encode()
    archive = zipfile.ZipFile(io.BytesIO(zip_file(members)))
    for name in members:
        assert len(members[name]) > 4 * 1024 * 1024
        counted = spreadsheets._count(archive, archive.getinfo(name), {b"si": 10**9})
        assert counted == {b"si": 300_007}, name


def test_crafted_workbooks_through_the_admin_are_answered_quickly():
    client = editor_client()
    data = workbook(ROWS, dimension="A1:XFD1048576", far_row=1048576)
    started = time.process_time()
    response = client.post(
        reverse("admin:review_listimport_add"),
        {"file": SimpleUploadedFile("list.xlsx", data), "encoding": "auto"},
    )
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200  # the preview reads it again
    assert time.process_time() - started < 10


# --- The list import: logo ZIPs ---------------------------------------------------------------


def damaged_crc(data):
    """The ZIP with its first member's CRC-32 wrong (in the local header and the directory)."""
    damaged = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    damaged[info.header_offset + 14] ^= 0xFF
    damaged[data.rfind(b"PK\x01\x02") + 16] ^= 0xFF
    return bytes(damaged)


def lying_size(data, declared=1000):
    """The ZIP with its first member declaring fewer bytes than it inflates to."""
    damaged = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    damaged[info.header_offset + 22 : info.header_offset + 26] = declared.to_bytes(4, "little")
    directory = data.rfind(b"PK\x01\x02")
    damaged[directory + 24 : directory + 28] = declared.to_bytes(4, "little")
    return bytes(damaged)


def truncated_zip(data):
    return data[: len(data) - 40]


def with_flags(data, *, flags=0, method=None):
    """The ZIP with its first member's general-purpose flags or compression method changed
    (in the local header and the directory): "encrypted", or a method zipfile cannot read."""
    damaged = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    directory = data.rfind(b"PK\x01\x02")
    for flag_at, method_at in (
        (info.header_offset + 6, info.header_offset + 8),
        (directory + 8, directory + 10),
    ):
        damaged[flag_at] |= flags
        if method is not None:
            damaged[method_at : method_at + 2] = method.to_bytes(2, "little")
    return bytes(damaged)


ROW_ERROR, WITH_LOGO, REFUSED_UPLOAD = (
    "the row is an error",
    "imported with its logo",
    "the upload is refused",
)
HOSTILE_ZIPS = {
    "a damaged member (wrong CRC)": (lambda: damaged_crc(zip_file({"logo.png": logo_png()})), ROW_ERROR),
    "a member that inflates to more than it says": (
        lambda: lying_size(zip_file({"logo.png": plain("PNG", size=(512, 512)) + b"\0" * (3 * 1024 * 1024)})),
        ROW_ERROR,
    ),
    "an encrypted member": (lambda: with_flags(zip_file({"logo.png": logo_png()}), flags=0x1), ROW_ERROR),
    "a member compressed with PPMd": (
        lambda: with_flags(zip_file({"logo.png": logo_png()}), method=98),
        ROW_ERROR,
    ),
    "a truncated archive": (lambda: truncated_zip(zip_file({"logo.png": logo_png()})), REFUSED_UPLOAD),
    "a member named with ../": (lambda: zip_file({"../../../../tmp/logo.png": logo_png()}), WITH_LOGO),
    "a member with an absolute name": (lambda: zip_file({"/etc/logo.png": logo_png()}), WITH_LOGO),
    "an svg with a script": (
        lambda: zip_file({"logo.png": b"<svg><script>alert(1)</script></svg>"}),
        ROW_ERROR,
    ),
    "a zip in the zip": (lambda: zip_file({"logo.png": zip_file({"x.png": logo_png()})}), ROW_ERROR),
    "a 3 MB member of zeros": (
        lambda: zip_file({"logo.png": b"\x89PNG" + b"\0" * (3 * 1024 * 1024)}),
        ROW_ERROR,
    ),
}


@pytest.mark.parametrize("kind", list(HOSTILE_ZIPS))
def test_hostile_logo_zips_are_answered_and_nothing_hostile_is_stored(kind):
    build, outcome = HOSTILE_ZIPS[kind]
    data = csv_file(
        [("With a logo", "agents", "logo.png"), ("Without", "agents", "")], header=("name", "track", "logo")
    )
    client = editor_client()
    files, before = media_files(), snapshot()
    response = client.post(
        reverse("admin:review_listimport_add"),
        {
            "file": SimpleUploadedFile("list.csv", data),
            "encoding": "auto",
            "logos": SimpleUploadedFile("logos.zip", build()),
        },
    )
    assert media_files() == files, kind  # a preview stores no file
    if outcome == REFUSED_UPLOAD:
        assert response.status_code == 200 and "logos" in response.context["form"].errors, kind
        assert not changes(before, snapshot()), kind
        return
    assert response.status_code == 302, kind
    assert client.get(response.url).status_code == 200, kind  # the preview reads the ZIP again
    batch = ListImport.objects.get()
    confirmed = client.post(reverse("admin:review_listimport_confirm", args=[batch.pk]), {"mode": "valid"})
    assert confirmed.status_code == 302, kind
    assert Project.objects.filter(name="Without").exists(), kind
    with_logo = Project.objects.filter(name="With a logo").first()
    if outcome == ROW_ERROR:
        assert with_logo is None and media_files() == files, kind
    else:  # only the member's base name is used, as a key: nothing is written where it says
        assert with_logo is not None and with_logo.logo, kind
        stored = [name for name in media_files() if name not in files]
        assert all(re.fullmatch(r"logos/(thumbs/)?[0-9a-f]{32}\.webp", name) for name in stored), (
            kind,
            stored,
        )


# --- Request sizes -----------------------------------------------------------------------------


def test_oversized_requests_are_refused_with_a_400(founder_client):
    url = reverse("review:submission-new")
    before, files = snapshot(), media_files()
    too_long = founder_client.post(url, {**complete(), "description": "长" * 3_000_000, "action": "save"})
    too_many = founder_client.post(url, {**complete(), "secondary_tracks": [str(n) for n in range(1500)]})
    files_posted = {f"logo{n}": upload(logo_png(), f"{n}.png") for n in range(120)}
    too_many_files = founder_client.post(url, {**complete(), **files_posted})
    # 9 MB of description is over the whole-body limit (aimap/bodylimit.py: 413, never read);
    # the others are refused by Django's own limits while reading (400)
    assert [too_long.status_code, too_many.status_code, too_many_files.status_code] == [413, 400, 400]
    assert not changes(before, snapshot()) and media_files() == files
