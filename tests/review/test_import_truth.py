"""Imports never invent facts: a value the file does not give is unknown ("—" on pages, its own
bucket in the statistics, never China); the preview shows what each row will get; the editor
chooses to publish now or later; listings that got China only as the former default are
given back "unknown" where the stored import shows it."""

import io

import pytest
from django.core.management import call_command

from registry.models import Project
from review import importing
from review.importing import apply_import, plan_import
from review.models import Event, ListImport, Submission
from tests.base import make_project, track
from tests.review.import_files import csv_file
from tests.review.workflow_builders import make_editor

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def test_a_file_without_countries_leaves_them_unknown(client):
    apply_import(csv_file([("PyTorch Geometric", "infrastructure"), ("Ray", "agents")]))
    assert set(Project.objects.values_list("hq_country", flat=True)) == {""}
    project = Project.objects.get(name="PyTorch Geometric")
    page = client.get(project.get_absolute_url(), headers=EN).text
    assert '<dt class="col-5">Headquarters</dt><dd class="col-7">—</dd>' in page
    assert '<dt class="col-5">Stage</dt><dd class="col-7">—</dd>' in page


def test_unknown_countries_are_their_own_bucket_never_china(client):
    make_project(hq_country="CN", name="In China")
    apply_import(csv_file([("Unknown One", "agents"), ("Unknown Two", "video")]))
    response = client.get("/stats/", headers=EN)
    (chart,) = [chart for chart in response.context["charts"] if chart.slug == "country"]
    rows = {row.label: row.value for row in chart.rows}
    assert rows == {"China": 1, "Unknown": 2}
    assert response.context["numbers"]["countries"] == 1  # unknown is no country
    home = client.get("/", headers=EN)
    assert home.context["country_count"] == 1


def test_a_country_the_importer_cannot_read_is_a_row_error_naming_it():
    plan = plan_import(
        csv_file([("Somewhere", "agents", "Atlantis")], header=("name", "track", "hq_country"))
    )
    (row,) = plan.rows
    assert row.action == "error" and any("Atlantis" in error for error in row.errors)


def test_founders_must_still_give_their_country_and_city(founder_client):
    data = {"name": "Mine", "tagline": "t", "description": "d", "track": track("agents").pk}
    response = founder_client.post(
        "/my/submissions/new/", {**data, "hq_country": "", "hq_city": "", "action": "submit"}, headers=EN
    )
    assert response.status_code == 200 and not Submission.objects.exists()
    form = response.context["form"]
    assert "hq_country" in form.errors and "hq_city" in form.errors
    assert form["name"].value() == "Mine"  # nothing typed is lost
    # A draft may leave them empty for now.
    draft = founder_client.post("/my/submissions/new/", {**data, "hq_country": "", "action": "save"})
    assert draft.status_code == 302 and Submission.objects.get().hq_country == ""
    fresh = founder_client.get("/my/submissions/new/").context["form"]
    assert fresh.initial["hq_country"] == "CN"  # preselected, still the founder's choice


def test_the_owner_of_a_listing_of_unknown_country_gives_it_when_proposing_changes(founder_client, founder):
    project = make_project(owner=founder, name="Claimed", listed_by="editors", hq_country="", hq_city="")
    url = f"/projects/{project.slug}/edit/"
    form = founder_client.get(url).context["form"]
    assert form["hq_country"].value() == ""  # the listing's unknown, not a guessed China
    data = {
        "name": "Claimed",
        "tagline": "t",
        "description": "d",
        "track": track("agents").pk,
        "status": "active",
    }
    response = founder_client.post(
        url, {**data, "hq_country": "", "hq_city": "", "action": "submit"}, headers=EN
    )
    assert response.status_code == 200 and "hq_country" in response.context["form"].errors
    assert not Submission.objects.exists()
    response = founder_client.post(url, {**data, "hq_country": "DE", "hq_city": "Berlin", "action": "submit"})
    assert response.status_code == 302, response.context["form"].errors
    assert (Submission.objects.get().hq_country, Submission.objects.get().hq_city) == ("DE", "Berlin")


# --- The preview ------------------------------------------------------------------------


def test_the_preview_shows_what_every_row_will_get_and_the_totals(client, admin_client):
    make_project(name="Existing", listed_by="editors", website="https://existing.example", stage="idea")
    data = csv_file(
        [
            ("Existing", "agents", "https://existing.example", "growth", "SG"),
            ("New One", "coding", "", "", ""),
            ("New Two", "coding", "", "prototype", "US"),
        ],
        header=("name", "track", "website", "stage", "hq_country"),
    )
    plan = plan_import(data)
    rows = {row.name: row for row in plan.rows}
    assert rows["New One"].shown == {"track": "Coding & developer tools", "hq_country": "—", "stage": "—",
                                     "status": "Active"}  # fmt: skip
    diffs = [(str(label), old, new) for label, old, new in rows["Existing"].diffs]
    assert diffs == [("stage", "Idea", "Growth"), ("country", "—", "Singapore")]
    assert plan.totals("track") == [("Coding & developer tools", 2), ("AI agents", 1)]
    assert plan.totals("hq_country") == [("Singapore", 1), ("United States of America", 1), ("—", 1)]

    editor = make_editor()
    client.force_login(editor)
    upload = io.BytesIO(data)
    upload.name = "list.csv"
    response = client.post(
        "/admin/review/listimport/add/",
        {"file": upload, "encoding": "auto", "source_name": "LF AI & Data", "source_licence": "CC-BY-4.0"},
        headers=EN,
    )
    assert response.status_code == 302
    batch = ListImport.objects.get()
    assert (batch.source_name, batch.source_licence) == ("LF AI & Data", "CC-BY-4.0")
    preview = client.get(response["Location"], headers=EN).text
    assert '<td class="shown-country">—</td>' in preview
    assert "<strong>stage</strong>: Idea → Growth" in preview
    assert "Per country or region" in preview and "Every new listing will credit LF AI &amp; Data." in preview


def test_imported_unpublished_listings_are_published_later_in_bulk_with_events(client):
    editor = make_editor()
    client.force_login(editor)
    data = csv_file([("Held One", "agents"), ("Held Two", "video")])
    upload = io.BytesIO(data)
    upload.name = "held.csv"
    client.post("/admin/review/listimport/add/", {"file": upload, "encoding": "auto"})
    batch = ListImport.objects.get()
    client.post(f"/admin/review/listimport/{batch.pk}/confirm/", {"mode": "valid", "publish": "later"})
    held = Project.objects.filter(name__startswith="Held")
    assert held.count() == 2 and not held.filter(published=True).exists()
    assert client.get(f"/projects/{held.first().slug}/").status_code == 404

    response = client.post(
        "/admin/registry/project/",
        {
            "action": "publish_listings",
            "_selected_action": [str(pk) for pk in held.values_list("pk", flat=True)],
        },
    )
    assert response.status_code == 302
    assert held.filter(published=True).count() == 2
    events = Event.objects.filter(project__in=held, action="publish_listing")
    assert events.count() == 2 and {event.actor for event in events} == {editor}
    assert all(project.first_published_at for project in held)


# --- Listings that got China as the former default -----------------------------------------


def test_the_repair_gives_back_unknown_where_the_stored_import_shows_no_country():
    data = csv_file([("From A File", "agents", "https://file.example")], header=("name", "track", "website"))
    batch = ListImport.objects.create(file_name="old.csv", data=data, state=ListImport.State.APPLIED)
    repaired = make_project(
        name="From A File", website="https://file.example", listed_by="editors", hq_country="CN"
    )
    unknown_source = make_project(name="No Stored Import", listed_by="editors", hq_country="CN")
    reviewed = make_project(name="Reviewed", listed_by="editors", hq_country="CN", verified=True)
    with_country = csv_file([("Reviewed", "agents", "CN")], header=("name", "track", "hq_country"))
    ListImport.objects.create(file_name="other.csv", data=with_country, state=ListImport.State.APPLIED)

    out = io.StringIO()
    call_command("unknown_imported_countries", "--dry-run", stdout=out)
    assert "1 editors' listings would become of unknown country" in out.getvalue()
    assert Project.objects.get(pk=repaired.pk).hq_country == "CN"

    out = io.StringIO()
    call_command("unknown_imported_countries", stdout=out)
    assert "1 editors' listings became of unknown country" in out.getvalue()
    assert "1 say CN and no stored import shows" in out.getvalue()
    assert Project.objects.get(pk=repaired.pk).hq_country == ""
    assert Project.objects.get(pk=unknown_source.pk).hq_country == "CN"
    assert Project.objects.get(pk=reviewed.pk).hq_country == "CN"
    event = Event.objects.get(project=repaired, action="unknown_country")
    assert event.changed_fields == ["hq_country"] and f"of {batch.file_name}" in event.detail
    assert importing.normalised_name("From  A FILE") == repaired.name_key
