"""The editors' import in the admin (upload, preview, confirm, discard), the editors'
exports (project and submission admin actions) and `manage.py import_projects`.

The import rules themselves are tested in test_importing; these tests check the layers
around them: who gets in, what the pages show, that nothing is written before a
confirmation, and that the command and the exports say and write what they should."""

import csv
import io
import re
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook

from registry import images, spreadsheets
from registry.images import save_logo
from registry.listing import listing_field_names
from registry.models import Project
from review import exports, importing
from review.importing import plan_import
from review.models import Event, ListImport
from tests.base import make_project, make_submission, make_user, track
from tests.review.import_files import csv_file, logo_png, xlsx_file, zip_file
from tests.review.workflow_builders import ensure_groups, make_editor, make_reviewer

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
HEADER = ("name", "track", "website")
# Two good rows, an unknown track, a bad URL and the first row again (same name and website).
MIXED = [
    ("Good one", "agents", "https://good.example"),
    ("Good two", "image-design", ""),
    ("Bad track", "robots", ""),
    ("Bad url", "agents", "ftp://files.example"),
    ("Good one", "agents", "https://good.example/"),
]


@pytest.fixture(autouse=True)
def groups(db):
    ensure_groups()


@pytest.fixture
def editor(db):
    return make_editor(username="editor")


@pytest.fixture
def reviewer(db):
    return make_reviewer(username="reviewer")


def client_for(user=None):
    client = Client(headers=EN)
    if user is not None:
        client.force_login(user)
    return client


def add_url():
    return reverse("admin:review_listimport_add")


def change_url(pk):
    return reverse("admin:review_listimport_change", args=[pk])


def confirm_url(pk):
    return reverse("admin:review_listimport_confirm", args=[pk])


def discard_url(pk):
    return reverse("admin:review_listimport_discard", args=[pk])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def last_message(response):
    """The message of this response (earlier ones stay queued: redirects are not followed)."""
    return messages_of(response)[-1]


def upload(client, data, name="list.csv", *, encoding="auto", logos=None, **extra):
    fields = {"file": SimpleUploadedFile(name, data), "encoding": encoding, **extra}
    if logos is not None:
        fields["logos"] = SimpleUploadedFile("logos.zip", logos)
    return client.post(add_url(), fields)


def uploaded(client, data, name="list.csv", **options):
    """Upload `data` and return its ListImport (the upload must lead to the preview)."""
    response = upload(client, data, name, **options)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ListImport.objects.latest("pk")
    assert response.url == change_url(batch.pk)
    return batch


def html_of(response):
    return response.content.decode()


def table_row(html, line):
    """The preview's or report's <tr> for `line` of the file."""
    match = re.search(rf'<tr[^>]*data-line="{line}"[^>]*>.*?</tr>', html, re.S)
    assert match, f"no row for line {line}"
    return match.group(0)


def count_cell(html, action):
    match = re.search(rf'data-count="{action}">(\d+)<', html)
    assert match, f"no count for {action}"
    return int(match.group(1))


def field_row(html, name):
    """The upload form's row for field `name`, errors included."""
    for chunk in html.split('<div class="form-row')[1:]:
        if f'name="{name}"' in chunk:
            return chunk
    raise AssertionError(f"no form row for {name}")


def write_snapshot():
    return Project.objects.count(), Event.objects.count()


# --- Who gets in ---------------------------------------------------------------------------


@pytest.fixture
def batch(editor):
    return ListImport.objects.create(
        file_name="list.csv", data=csv_file([("Waiting", "agents")]), created_by=editor
    )


def pages(batch):
    return [add_url(), change_url(batch.pk), reverse("admin:review_listimport_changelist")]


def buttons(batch):
    return [confirm_url(batch.pk), discard_url(batch.pk)]


@pytest.mark.parametrize("who", ["anonymous", "founder"])
def test_visitors_and_founders_are_sent_to_the_admin_login(who, batch):
    client = client_for(None if who == "anonymous" else make_user("founder"))
    for page in pages(batch):
        response = client.get(page)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), page
    for button in buttons(batch):
        response = client.post(button, {"mode": "valid"})
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), button
    response = upload(client, csv_file([("Sneaky", "agents")]))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED
    assert ListImport.objects.count() == 1 and Project.objects.count() == 0


def test_reviewers_may_not_upload_preview_confirm_discard_or_list_imports(reviewer, batch):
    client = client_for(reviewer)
    for page in pages(batch):
        assert client.get(page).status_code == 403, page
    assert upload(client, csv_file([("Sneaky", "agents")])).status_code == 403
    assert client.post(confirm_url(batch.pk), {"mode": "valid"}).status_code == 403
    assert client.post(discard_url(batch.pk)).status_code == 403
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED
    assert ListImport.objects.count() == 1 and Project.objects.count() == 0


def test_staff_outside_both_groups_may_not_import(batch):
    client = client_for(make_user("intern", is_staff=True))
    assert client.get(add_url()).status_code == 403
    assert client.post(confirm_url(batch.pk), {"mode": "valid"}).status_code == 403
    assert Project.objects.count() == 0


def test_editors_get_the_upload_page_and_the_list_of_imports(editor, batch):
    client = client_for(editor)
    upload_page = client.get(add_url())
    listing = client.get(reverse("admin:review_listimport_changelist"))

    assert upload_page.status_code == 200 and 'name="file"' in html_of(upload_page)
    assert listing.status_code == 200 and "list.csv" in html_of(listing)


def test_the_import_link_shows_on_the_project_list_for_editors_only(editor, reviewer):
    changelist = reverse("admin:registry_project_changelist")
    link = f'href="{add_url()}"'

    for_editor = client_for(editor).get(changelist)
    for_reviewer = client_for(reviewer).get(changelist)

    assert for_editor.status_code == 200 and for_reviewer.status_code == 200
    assert link in html_of(for_editor) and "Import a list" in html_of(for_editor)
    assert link not in html_of(for_reviewer) and "Import a list" not in html_of(for_reviewer)


# --- Upload and preview -----------------------------------------------------------------------


def test_an_upload_leads_to_a_preview_with_counts_and_each_error_and_writes_nothing(editor):
    before = write_snapshot()
    client = client_for(editor)

    batch = uploaded(client, csv_file(MIXED, HEADER))
    preview = client.get(change_url(batch.pk))

    assert write_snapshot() == before == (0, 0)
    assert batch.state == ListImport.State.PREVIEWED and batch.created_by == editor
    assert batch.file_name == "list.csv" and bytes(batch.data) == csv_file(MIXED, HEADER)
    assert batch.summary["create"] == 2 and batch.summary["error"] == 3
    html = html_of(preview)
    assert preview.status_code == 200
    assert count_cell(html, "create") == 2 and count_cell(html, "error") == 3
    assert count_cell(html, "update") == 0 and count_cell(html, "flagged") == 0
    assert "unknown track “robots”" in table_row(html, 4)
    assert "website: " in table_row(html, 5) and "Bad url" in table_row(html, 5)
    assert "The same project as line 2." in table_row(html, 6)
    assert "Good two" in table_row(html, 3) and "row-create" in table_row(html, 3)
    assert 'name="mode"' in html and confirm_url(batch.pk) in html and discard_url(batch.pk) in html


def test_the_list_of_imports_summarises_each_upload(editor):
    client = client_for(editor)
    uploaded(client, csv_file(MIXED, HEADER))

    listing = client.get(reverse("admin:review_listimport_changelist"))

    assert "2 new, 0 updated, 0 unchanged, 3 with errors" in html_of(listing)


# --- Confirming ---------------------------------------------------------------------------------


def test_confirming_the_valid_rows_publishes_them_and_keeps_a_report(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file(MIXED, HEADER))

    response = client.post(confirm_url(batch.pk), {"mode": "valid"})

    assert response.status_code == 302 and response.url == change_url(batch.pk)
    assert [level for level, _text in messages_of(response)] == ["success"]
    assert "2 new" in messages_of(response)[0][1]
    assert sorted(Project.objects.values_list("name", flat=True)) == ["Good one", "Good two"]
    for project in Project.objects.all():
        assert project.is_public and project.owner is None
        assert project.listed_by == Project.ListedBy.EDITORS
    assert Project.objects.get(name="Good two").track == track("image-design")
    events = Event.objects.filter(action="import")
    assert events.count() == 2 and {event.actor for event in events} == {editor}
    assert all("list.csv" in event.detail for event in events)
    batch.refresh_from_db()
    assert batch.state == ListImport.State.APPLIED and batch.applied_at is not None
    assert batch.summary["created"] == 2 and batch.summary["errors"] == 3 and batch.summary["applied"]
    assert [row["line"] for row in batch.summary["rows"]] == [4, 5, 6]

    report = html_of(client.get(change_url(batch.pk)))
    assert "Result" in report and batch.summary["message"] in report
    assert "unknown track “robots”" in table_row(report, 4)
    assert "The same project as line 2." in table_row(report, 6)
    assert confirm_url(batch.pk) not in report  # nothing left to confirm


def test_an_import_is_confirmed_only_once(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file(MIXED, HEADER))
    client.post(confirm_url(batch.pk), {"mode": "valid"})
    before = write_snapshot()

    again = client.post(confirm_url(batch.pk), {"mode": "valid"})

    assert again.status_code == 302 and again.url == change_url(batch.pk)
    assert last_message(again) == ("error", "This list was already imported or discarded.")
    assert write_snapshot() == before
    batch.refresh_from_db()
    assert batch.state == ListImport.State.APPLIED and batch.summary["created"] == 2


def test_all_or_nothing_with_an_error_row_writes_nothing_and_keeps_the_preview(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file(MIXED, HEADER))

    response = client.post(confirm_url(batch.pk), {"mode": "all"})

    assert response.status_code == 302 and response.url == change_url(batch.pk)
    (level, text), *rest = messages_of(response)
    assert level == "error" and "Nothing was imported" in text and not rest
    assert write_snapshot() == (0, 0)
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED and batch.applied_at is None
    # The preview can still be confirmed, importing the valid rows.
    client.post(confirm_url(batch.pk), {"mode": "valid"})
    assert Project.objects.count() == 2


def test_all_or_nothing_without_errors_imports_everything(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file([("One", "agents"), ("Two", "video")]))

    client.post(confirm_url(batch.pk), {"mode": "all"})

    assert Project.objects.count() == 2
    batch.refresh_from_db()
    assert batch.state == ListImport.State.APPLIED


@pytest.mark.parametrize("data", [{}, {"mode": "everything"}, {"mode": "valid", "include": "abc"}])
def test_a_forged_confirmation_is_refused_with_a_message(editor, data):
    client = client_for(editor)
    batch = uploaded(client, csv_file([("One", "agents")]))

    response = client.post(confirm_url(batch.pk), data)

    assert response.status_code == 302 and response.url == change_url(batch.pk)
    assert [level for level, _text in messages_of(response)] == ["error"]
    assert Project.objects.count() == 0
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED


# --- Look-alikes --------------------------------------------------------------------------------


@pytest.fixture
def lookalike_batch(editor):
    make_project(name="Deep Agent", website="https://deep-agent.example", listed_by="editors")
    data = csv_file([("Deep Agent", "agents", "https://another.example"), ("Plain", "agents", "")], HEADER)
    return uploaded(client_for(editor), data)


def test_a_look_alike_row_offers_import_anyway(editor, lookalike_batch):
    html = html_of(client_for(editor).get(change_url(lookalike_batch.pk)))

    row = table_row(html, 2)
    assert 'type="checkbox" name="include" value="2"' in row
    assert "“Deep Agent” on the map (same name)" in row
    assert count_cell(html, "flagged") == 1 and count_cell(html, "create") == 2
    assert 'name="include" value="3"' not in html


def test_a_look_alike_row_is_imported_when_ticked(editor, lookalike_batch):
    client_for(editor).post(confirm_url(lookalike_batch.pk), {"mode": "valid", "include": ["2"]})

    assert Project.objects.filter(name="Deep Agent").count() == 2
    assert Project.objects.filter(name="Deep Agent", website="https://another.example").exists()
    assert Project.objects.filter(name="Plain").exists()


def test_a_look_alike_row_is_skipped_when_not_ticked(editor, lookalike_batch):
    response = client_for(editor).post(confirm_url(lookalike_batch.pk), {"mode": "valid"})

    assert Project.objects.filter(name="Deep Agent").count() == 1
    assert Project.objects.filter(name="Plain").exists()
    lookalike_batch.refresh_from_db()
    assert lookalike_batch.summary["created"] == 1 and lookalike_batch.summary["skipped"] == 1
    assert "1 skipped" in messages_of(response)[0][1]
    (row,) = lookalike_batch.summary["rows"]
    assert row["line"] == 2 and "Looks like another listing; skipped." in row["warnings"]


# --- Bad uploads ----------------------------------------------------------------------------------

GB18030 = csv_file([("深言科技", "agents"), ("智能客服", "customer-service")], encoding="gb18030")


@pytest.mark.parametrize(
    ("name", "data", "options", "field", "message"),
    [
        ("empty.csv", b"", {}, "file", "The submitted file is empty."),
        ("whitespace.csv", b"  \n\n", {}, "file", "The file is empty."),
        ("report.pdf", b"%PDF-1.7\n%binary\n", {}, "file", "This is a PDF file, not a CSV or XLSX table."),
        (
            "chinese.csv",
            GB18030,
            {"encoding": "utf-8"},
            "file",
            "The file cannot be read as UTF-8. Choose another encoding, or “detect”.",
        ),
        ("header.csv", b"name,track\n", {}, "file", "The file has a header but no rows."),
        ("columns.csv", b"name,website\nA,https://a.example\n", {}, "file", "no “track” column"),
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, {}, "file", "old Excel 97-2003 file"),
        ("list.csv", csv_file([("A", "agents")]), {"logos": b"not a zip"}, "logos", "not a ZIP archive"),
    ],
)
def test_a_bad_upload_is_refused_next_to_its_field_and_kept_nowhere(
    editor, name, data, options, field, message
):
    client = client_for(editor)

    response = upload(client, data, name, **options)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in " ".join(errors[field])
    row = field_row(html_of(response), field)
    assert "errorlist" in row and message in row
    assert ListImport.objects.count() == 0 and Project.objects.count() == 0


def test_a_zip_uploaded_as_the_list_is_an_error_of_the_list_not_of_the_logos(editor):
    response = upload(client_for(editor), zip_file({"notes.txt": b"hello"}), "list.zip")

    errors = response.context["form"].errors
    assert list(errors) == ["file"] and "not an XLSX workbook" in errors["file"][0]
    assert ListImport.objects.count() == 0


@override_settings(IMPORT_MAX_FILE_MB=1)
def test_a_file_over_the_size_limit_is_refused(editor):
    data = csv_file([("Big", "agents", "x" * 100)] * 11_000, ("name", "track", "tagline"))
    assert 1.1 * 1024 * 1024 < len(data) < 1.2 * 1024 * 1024

    response = upload(client_for(editor), data, "big.csv")

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This file is larger than 1 MB."]}
    assert "This file is larger than 1 MB." in field_row(html_of(response), "file")
    assert ListImport.objects.count() == 0


@override_settings(IMPORT_MAX_LOGOS_MB=1)
def test_a_logos_zip_over_the_size_limit_is_refused(editor):
    response = upload(
        client_for(editor), csv_file([("A", "agents")]), logos=b"PK\x03\x04" + b"\x00" * (1024 * 1024 + 1)
    )

    assert response.context["form"].errors == {"logos": ["This file is larger than 1 MB."]}
    assert ListImport.objects.count() == 0


def test_the_form_keeps_the_chosen_encoding_after_an_error(editor):
    response = upload(client_for(editor), GB18030, "chinese.csv", encoding="utf-8")

    select = field_row(html_of(response), "encoding")
    assert re.search(r'<option value="utf-8"[^>]*selected', select)
    assert not re.search(r'<option value="auto"[^>]*selected', select)


def test_a_gb18030_file_is_detected_and_previews_its_chinese_names(editor):
    client = client_for(editor)

    batch = uploaded(client, GB18030, "chinese.csv", encoding="auto")
    html = html_of(client.get(change_url(batch.pk)))

    assert "深言科技" in table_row(html, 2) and "智能客服" in table_row(html, 3)
    assert "encoding: gb18030" in html
    client.post(confirm_url(batch.pk), {"mode": "valid"})
    assert set(Project.objects.values_list("name", flat=True)) == {"深言科技", "智能客服"}


def test_an_xlsx_upload_is_previewed_and_imported(editor):
    client = client_for(editor)
    data = xlsx_file(
        [("表格项目", "agents", "2019"), ("Sheet AI", "video", "")], ("name", "track", "founded_year")
    )

    batch = uploaded(client, data, "list.xlsx")
    html = html_of(client.get(change_url(batch.pk)))
    client.post(confirm_url(batch.pk), {"mode": "valid"})

    assert count_cell(html, "create") == 2 and "Read as XLSX" in html
    assert "表格项目" in table_row(html, 2)
    assert Project.objects.get(name="表格项目").founded_year == 2019
    assert Project.objects.get(name="Sheet AI").track == track("video")


def test_contact_emails_are_public_only_when_the_editor_says_so(editor):
    header = ("name", "track", "contact_email")
    client = client_for(editor)
    private = uploaded(client, csv_file([("Private", "agents", "a@example.com")], header))
    public = uploaded(
        client, csv_file([("Public", "agents", "b@example.com")], header), public_contact_emails="on"
    )

    client.post(confirm_url(private.pk), {"mode": "valid"})
    client.post(confirm_url(public.pk), {"mode": "valid"})

    assert public.public_contact_emails and not private.public_contact_emails
    assert Project.objects.get(name="Private").public_contact_email == ""
    assert Project.objects.get(name="Public").public_contact_email == "b@example.com"


def test_the_import_reads_the_stored_upload_when_confirmed(editor):
    """The preview and the import read the very same bytes: the kept upload."""
    client = client_for(editor)
    batch = uploaded(client, csv_file([("Kept", "agents")]))

    client.post(confirm_url(batch.pk), {"mode": "valid"})

    assert Project.objects.get().name == "Kept"


# --- The file is read once: at the upload ------------------------------------------------------


def media_files():
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def counted():
    """Real counters around the real workbook parser, table reader, logo check and logo
    re-encoding (mock's wraps= calls through)."""
    with (
        mock.patch.object(spreadsheets, "load_workbook", wraps=spreadsheets.load_workbook) as workbook,
        mock.patch.object(importing, "read_table", wraps=importing.read_table) as table,
        mock.patch.object(images, "inspect_logo", wraps=images.inspect_logo) as inspect,
        mock.patch.object(images, "process_logo", wraps=images.process_logo) as process,
    ):
        yield lambda: (workbook.call_count, table.call_count, inspect.call_count, process.call_count)


LOGO_ROWS = [("One", "agents", "one.png"), ("Two", "agents", "two.png"), ("Also one", "agents", "ONE.png")]


def test_the_preview_reads_the_workbook_and_decodes_the_logos_once_at_the_upload(editor, counted):
    """Before: every view of the preview parsed the workbook and decoded every logo again
    (a 37 KB ZIP of large logos: 4-5 s a view)."""
    client = client_for(editor)
    files = media_files()
    data = xlsx_file(LOGO_ROWS, header=("name", "track", "logo"))
    logos = zip_file({"one.png": logo_png(), "two.png": logo_png((256, 256))})

    batch = uploaded(client, data, "list.xlsx", logos=logos)
    assert counted() == (1, 1, 2, 0)  # one workbook, two distinct logos checked, none stored

    for _view in range(2):
        preview = client.get(change_url(batch.pk))
        assert preview.status_code == 200 and count_cell(html_of(preview), "create") == 3
    assert counted() == (1, 1, 2, 0)
    assert media_files() == files  # nothing stored before the import

    client.post(confirm_url(batch.pk), {"mode": "valid"})
    assert counted() == (1, 1, 2, 2)  # the import re-encodes each logo once, reads no workbook
    projects = {project.name: project.logo.name for project in Project.objects.all()}
    assert projects["One"] == projects["Also one"] != projects["Two"]
    assert all(name.endswith(".webp") for name in projects.values())


def test_what_was_read_is_kept_until_the_list_is_imported_or_discarded(editor):
    client = client_for(editor)
    kept = uploaded(client, csv_file([("Kept", "agents")]))
    dropped = uploaded(client, csv_file([("Dropped", "agents")]))
    kept.refresh_from_db()
    assert kept.plan["version"] == importing.READ_VERSION
    assert [row["values"]["name"] for row in kept.plan["rows"]] == ["Kept"]

    client.post(confirm_url(kept.pk), {"mode": "valid"})
    client.post(discard_url(dropped.pk))

    assert ListImport.objects.filter(plan__isnull=False).count() == 0
    assert Project.objects.get().name == "Kept"
    kept.refresh_from_db()
    assert bytes(kept.data) == csv_file([("Kept", "agents")])  # the upload stays the record


def test_an_upload_kept_without_what_was_read_is_read_from_its_bytes_and_the_view_writes_nothing(
    editor, counted
):
    """Uploads from before reads were kept (or kept by another version of read_file) are
    read as before, at each view and at the import; a page view never writes."""
    client = client_for(editor)
    old = ListImport.objects.create(
        file_name="list.csv", data=csv_file([("Old", "agents")]), created_by=editor
    )
    other = ListImport.objects.create(
        file_name="list.csv", data=csv_file([("Other", "agents")]), plan={"version": 0}, created_by=editor
    )

    for batch in (old, other):
        assert count_cell(html_of(client.get(change_url(batch.pk))), "create") == 1
    assert counted()[1] == 2
    assert list(ListImport.objects.order_by("pk").values_list("plan", flat=True)) == [None, {"version": 0}]
    response = client.post(confirm_url(old.pk), {"mode": "valid"})
    assert last_message(response)[1].startswith("Imported: 1 new")
    assert counted()[1] == 3 and Project.objects.get().name == "Old"


def test_the_import_matches_the_rows_against_the_map_as_it_is_when_confirmed(editor):
    """What was read is kept; what it matches is not: a listing published after the preview
    that is the same project makes the "new" row an update, never a duplicate."""
    client = client_for(editor)
    batch = uploaded(
        client, csv_file([("Acme", "agents", "https://acme.example", "Robots")], (*HEADER, "tagline"))
    )
    assert count_cell(html_of(client.get(change_url(batch.pk))), "create") == 1
    listed = make_project(name="Acme", website="https://acme.example", tagline="Old", listed_by="editors")

    assert count_cell(html_of(client.get(change_url(batch.pk))), "update") == 1  # the preview sees it too
    response = client.post(confirm_url(batch.pk), {"mode": "valid"})

    assert last_message(response)[1].startswith("Imported: 0 new, 1 updated")
    listed.refresh_from_db()
    assert Project.objects.filter(name="Acme").count() == 1 and listed.tagline == "Robots"


# --- Discarding, methods and unknown ids ------------------------------------------------------------


def test_discarding_a_preview_writes_nothing(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file(MIXED, HEADER))

    response = client.post(discard_url(batch.pk))

    assert response.status_code == 302 and response.url == reverse("admin:review_listimport_changelist")
    assert messages_of(response) == [("success", "The list was discarded; nothing was imported.")]
    batch.refresh_from_db()
    assert batch.state == ListImport.State.DISCARDED and write_snapshot() == (0, 0)
    refused = client.post(confirm_url(batch.pk), {"mode": "valid"})
    assert last_message(refused) == ("error", "This list was already imported or discarded.")
    assert write_snapshot() == (0, 0)
    page = client.get(change_url(batch.pk))
    assert page.status_code == 200 and "Discarded" in html_of(page)
    assert "The list was discarded; nothing was imported." in html_of(page)
    assert confirm_url(batch.pk) not in html_of(page)
    listing = client.get(reverse("admin:review_listimport_changelist"))
    assert listing.status_code == 200 and "Discarded" in html_of(listing)


def test_an_applied_import_cannot_be_discarded(editor):
    client = client_for(editor)
    batch = uploaded(client, csv_file([("Stays", "agents")]))
    client.post(confirm_url(batch.pk), {"mode": "valid"})

    response = client.post(discard_url(batch.pk))

    assert response.status_code == 302
    assert not any("discarded" in text for _level, text in messages_of(response))
    batch.refresh_from_db()
    assert batch.state == ListImport.State.APPLIED and Project.objects.count() == 1


def test_confirm_and_discard_answer_only_post(editor, batch):
    client = client_for(editor)

    assert client.get(confirm_url(batch.pk)).status_code == 405
    assert client.get(discard_url(batch.pk)).status_code == 405
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED and Project.objects.count() == 0


def test_unknown_imports_are_404_or_sent_back_to_the_list(editor):
    client = client_for(editor)

    assert client.get(change_url(999999)).status_code == 404
    assert client.post(confirm_url(999999), {"mode": "valid"}).status_code == 404
    discard = client.post(discard_url(999999))
    assert discard.status_code == 302 and discard.url == reverse("admin:review_listimport_changelist")


@pytest.mark.parametrize("object_id", ["abc", "1.5", "-1", "²", "١", "99999999999999999999999", "1%20"])
def test_an_id_that_is_not_a_number_never_breaks_the_preview(editor, batch, object_id):
    client = client_for(editor)
    base = "/admin/review/listimport/"

    for address in (
        f"{base}{object_id}/change/",
        f"{base}{object_id}/confirm/",
        f"{base}{object_id}/discard/",
    ):
        assert client.get(address).status_code in (302, 404, 405), address
        assert client.post(address, {"mode": "valid"}).status_code in (302, 404, 405), address
    batch.refresh_from_db()
    assert batch.state == ListImport.State.PREVIEWED and Project.objects.count() == 0


# --- Exports ----------------------------------------------------------------------------------------


def export(client, model, action, *objects):
    changelist = reverse(f"admin:{model}_changelist")
    return client.post(changelist, {"action": action, "_selected_action": [obj.pk for obj in objects]})


def csv_of(response):
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # for Excel
    return list(csv.DictReader(io.StringIO(text[1:], newline=""))), text


@pytest.fixture
def under_review(db):
    founder = make_user("founder")
    project = make_project(
        name="Owned AI",
        owner=founder,
        contact_email="private@example.com",
        show_contact_email=False,
        website="https://owned.example",
        secondary=("video",),
    )
    submission = make_submission(founder, state="submitted", kind="update", project=project)
    return project, submission


def test_the_project_export_has_every_field_and_the_review_state(editor, under_review):
    project, submission = under_review

    response = export(client_for(editor), "registry_project", "export_csv", project)

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    rows, text = csv_of(response)
    header = next(csv.reader(io.StringIO(text[1:])))
    assert (
        header == exports.PROJECT_COLUMNS
        and header[1 : 1 + len(listing_field_names())] == listing_field_names()
    )
    (row,) = rows
    assert row["id"] == str(project.pk) and row["slug"] == project.slug and row["name"] == "Owned AI"
    assert row["contact_email"] == "private@example.com" and row["show_contact_email"] == "false"
    assert row["owner"] == "founder@example.com"
    assert row["open_submission"] == str(submission.pk) and row["open_submission_state"] == "submitted"
    assert row["track"] == "agents" and row["secondary_tracks"] == "video"
    assert row["published"] == "true" and row["listed_by"] == "founder"


def test_a_project_without_an_open_submission_exports_empty_review_columns(editor):
    project = make_project(name="Quiet", listed_by="editors")
    make_submission(make_user(), state="published", kind="update", project=project)  # closed

    (row,), _text = csv_of(export(client_for(editor), "registry_project", "export_csv", project))

    assert row["open_submission"] == "" and row["open_submission_state"] == "" and row["owner"] == ""


def test_the_project_export_as_xlsx_has_the_same_header(editor, under_review):
    project, _submission = under_review

    response = export(client_for(editor), "registry_project", "export_xlsx", project)

    assert response.status_code == 200 and ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    header, *rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    assert header == exports.PROJECT_COLUMNS
    (row,) = rows
    record = dict(zip(header, row, strict=True))
    assert record["name"] == "Owned AI" and record["contact_email"] == "private@example.com"
    assert record["open_submission_state"] == "submitted"


def test_the_submission_export_has_kind_and_state(editor, under_review):
    project, submission = under_review

    csv_response = export(client_for(editor), "review_submission", "export_csv", submission)
    xlsx_response = export(client_for(editor), "review_submission", "export_xlsx", submission)

    (row,), text = csv_of(csv_response)
    assert next(csv.reader(io.StringIO(text[1:]))) == exports.SUBMISSION_COLUMNS
    assert row["id"] == str(submission.pk) and row["kind"] == "update" and row["state"] == "submitted"
    assert row["project"] == project.slug and row["owner"] == "founder@example.com"
    sheet = load_workbook(io.BytesIO(xlsx_response.content), read_only=True).worksheets[0]
    header, values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header == exports.SUBMISSION_COLUMNS
    assert dict(zip(header, values, strict=True))["state"] == "submitted"


def test_reviewers_cannot_export_private_fields(reviewer, under_review):
    """Exports carry contact addresses and owners: the actions are the editors' only."""
    project, submission = under_review
    client = client_for(reviewer)

    for model, obj in (("registry_project", project), ("review_submission", submission)):
        response = export(client, model, "export_csv", obj)
        assert not response.get("Content-Disposition"), model
        assert b"private@example.com" not in (b"" if response.streaming else response.content)
        changelist = client.get(reverse(f"admin:{model}_changelist"))
        assert b"export_csv" not in changelist.content


def test_founders_and_visitors_cannot_export(under_review):
    project, _submission = under_review
    for client in (client_for(), client_for(make_user("nosy"))):
        response = export(client, "registry_project", "export_csv", project)
        assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_text_that_looks_like_a_formula_is_neutralised_in_the_exports(editor):
    project = make_project(name="=cmd", tagline="+86 AI for all", listed_by="editors")

    (row,), _text = csv_of(export(client_for(editor), "registry_project", "export_csv", project))
    response = export(client_for(editor), "registry_project", "export_xlsx", project)

    assert row["name"] == "'=cmd" and row["tagline"] == "'+86 AI for all"
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    name_column = exports.PROJECT_COLUMNS.index("name") + 1
    cell = sheet.cell(row=2, column=name_column)
    assert cell.data_type == "s"  # text, never a formula


def test_an_editors_export_imports_again_without_changes_or_warnings(editor):
    listed = [
        make_project(name="Plain", listed_by="editors"),
        make_project(
            name="深言科技",
            name_en="DeepLang",
            listed_by="editors",
            track_slug="video",
            secondary=("agents", "image-design"),
            website="https://deeplang.example/app",
            organization="深言",
            founded_year=2021,
            hq_city="北京",
            hq_country="CN",
            stage="launched",
            funding_stage="series_a",
            team_size="11_50",
            business_models=["subscription", "usage"],
            target_market="global",
            customer_types=["smb", "enterprise"],
            foundation_models=["open_source", "self_developed"],
            models_used="Qwen, own",
            modalities=["text", "image"],
            seeking=["investment", "partners"],
            status="active",
            contact_email="hi@deeplang.example",
            show_contact_email=True,
            description="Line one, with a comma.\n\n“Quoted” second paragraph;\nand a semicolon.",
        ),
        make_project(name="=cmd", tagline="-minus and +plus", listed_by="editors", hq_country="US"),
        make_project(name="Unpublished", listed_by="editors", published=False, contact_email="x@example.com"),
    ]
    listed[1].refresh_from_db()
    before = {project.pk: project.updated_at for project in Project.objects.all()}

    response = export(client_for(editor), "registry_project", "export_csv", *listed)
    data = b"".join(response.streaming_content)
    plan = plan_import(data)

    assert plan.warnings == []
    assert [(row.name, row.action, row.errors, row.warnings, row.changes) for row in plan.rows] == [
        (project.name, "unchanged", [], [], []) for project in listed
    ]
    assert {project.pk: project.updated_at for project in Project.objects.all()} == before


def test_an_exported_listing_keeps_its_logo_without_a_warning_when_imported_again(editor):
    """The export names the stored logo file; without a ZIP the listing simply keeps its logo."""
    project = make_project(name="With logo", listed_by="editors")
    project.logo.name = save_logo(ContentFile(logo_png(), name="logo.png"))
    project.save()

    response = export(client_for(editor), "registry_project", "export_csv", project)
    plan = plan_import(b"".join(response.streaming_content))

    (row,) = plan.rows
    assert (row.action, row.warnings, row.changes) == ("unchanged", [], [])
    new_row = plan_import(csv_file([("Other", "agents", project.logo.name)], ("name", "track", "logo"))).rows[
        0
    ]
    assert new_row.action == "create" and "was not uploaded" in new_row.warnings[0]  # a new row still says so


def test_an_editors_xlsx_export_imports_again_without_changes(editor):
    listed = [
        make_project(name="=sum", listed_by="editors", secondary=("video",), founded_year=2020),
        make_project(name="Second", listed_by="editors", business_models=["open_source"]),
    ]

    response = export(client_for(editor), "registry_project", "export_xlsx", *listed)
    plan = plan_import(response.content)

    assert plan.warnings == [] and plan.format == "xlsx"
    assert [(row.action, row.errors) for row in plan.rows] == [("unchanged", [])] * 2


# --- manage.py import_projects -------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("import_projects", *[str(arg) for arg in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def mixed_file(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file(MIXED, HEADER))
    return path


def test_a_dry_run_prints_counts_and_errors_and_writes_nothing(mixed_file):
    output = run(mixed_file, "--dry-run")

    assert write_snapshot() == (0, 0)
    assert (
        "5 rows (csv, utf-8): 2 new, 0 updated, 0 unchanged, 0 left alone, 0 look-alikes, 3 with errors"
        in output
    )
    assert "line 4 Bad track [error]: track: unknown track “robots”." in output
    assert "line 5 Bad url [error]: website:" in output
    assert "line 6 Good one [error]: The same project as line 2." in output
    assert "Dry run: nothing was written." in output


def test_the_command_imports_the_valid_rows(mixed_file):
    output = run(mixed_file)

    assert sorted(Project.objects.values_list("name", flat=True)) == ["Good one", "Good two"]
    assert all(p.owner is None and p.is_public for p in Project.objects.all())
    assert "Imported: 2 new, 0 updated, 0 unchanged, 0 skipped, 3 with errors." in output
    assert Event.objects.filter(action="import", actor=None).count() == 2
    assert all("line" in event.detail and "list.csv" in event.detail for event in Event.objects.all())


def test_running_the_command_again_changes_nothing(tmp_path):
    path = tmp_path / "good.csv"
    path.write_bytes(csv_file([("Once", "agents"), ("Twice", "video")]))
    run(path)
    before = write_snapshot()

    output = run(path)

    assert write_snapshot() == before
    assert "0 new" in output and "2 unchanged" in output
    assert "Imported: 0 new, 0 updated, 2 unchanged" in output


def test_all_or_nothing_with_an_error_row_fails_and_writes_nothing(mixed_file):
    with pytest.raises(CommandError, match="Nothing was imported: 3 rows have errors"):
        run(mixed_file, "--all-or-nothing")

    assert write_snapshot() == (0, 0)


def test_a_missing_file_is_named_in_the_error(tmp_path):
    missing = tmp_path / "nowhere" / "list.csv"

    with pytest.raises(CommandError, match=re.escape(str(missing))):
        run(missing)


def test_a_file_that_cannot_be_imported_is_a_command_error(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.7\n")

    with pytest.raises(CommandError, match="This is a PDF file"):
        run(path)
    assert Project.objects.count() == 0


def test_by_must_name_an_editor(mixed_file, reviewer):
    for email in (reviewer.email, "nobody@example.com"):
        with pytest.raises(CommandError, match=f"{re.escape(email)} is not an editor"):
            run(mixed_file, "--by", email)
    assert write_snapshot() == (0, 0)


def test_by_names_the_editor_in_the_audit_trail(mixed_file, editor):
    run(mixed_file, "--by", editor.email.upper())

    assert Event.objects.filter(action="import").count() == 2
    assert set(Event.objects.values_list("actor", flat=True)) == {editor.pk}


def test_look_alikes_are_skipped_unless_asked_for(tmp_path):
    make_project(name="Twin", website="https://twin.example", listed_by="editors")
    path = tmp_path / "twins.csv"
    path.write_bytes(csv_file([("Twin", "agents", "https://other-twin.example")], HEADER))

    skipped = run(path)
    assert Project.objects.filter(name="Twin").count() == 1
    assert "1 look-alikes" in skipped and "looks like: “Twin” on the map (same name)" in skipped

    run(path, "--include-flagged")
    assert Project.objects.filter(name="Twin").count() == 2


def test_the_command_reads_the_encoding_it_is_told(tmp_path):
    path = tmp_path / "chinese.csv"
    path.write_bytes(GB18030)

    with pytest.raises(CommandError, match="cannot be read as UTF-8"):
        run(path, "--encoding", "utf-8")
    run(path, "--encoding", "gb18030")

    assert set(Project.objects.values_list("name", flat=True)) == {"深言科技", "智能客服"}
