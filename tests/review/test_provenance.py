"""Provenance on every listing: what the association reviewed, what its founder claimed, what
the editors listed from which source, on the project page, the cards, the map's tiles and in
every download; and a claim offered where it is needed."""

import csv
import io
import json
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from registry.models import Project
from review import workflow
from review.importing import Origin, apply_import
from review.models import Submission
from tests.base import make_project, text_of
from tests.review.import_files import csv_file
from tests.review.workflow_builders import make_editor, make_reviewer, published, review

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}
LF_AI = Origin("LF AI & Data Landscape", "https://landscape.lfaidata.foundation", "CC-BY-4.0")


def imported(name="PyTorch Geometric", **origin):
    apply_import(
        csv_file([(name, "infrastructure", "https://pyg.org")], header=("name", "track", "website")),
        origin=Origin(**origin) if origin else LF_AI,
    )
    return Project.objects.get(name=name)


def claimed(project, founder, editor, reviewer):
    submission = workflow.claim(project, by=founder, evidence="I maintain it: pyg.org/team")
    submission = workflow.assign(submission, by=editor, reviewer=reviewer)
    review(submission, reviewer)
    workflow.publish(workflow.approve(submission, by=editor), by=editor)
    project.refresh_from_db()
    return project


@pytest.fixture
def reviewer():
    return make_reviewer()


@pytest.fixture
def staff_editor():
    return make_editor()


def test_an_imported_listing_is_listed_by_the_editors_from_its_source(client):
    project = imported()
    assert project.provenance == Project.Provenance.LISTED
    assert (project.source_name, project.source_licence) == ("LF AI & Data Landscape", "CC-BY-4.0")
    text = client.get(project.get_absolute_url(), headers=EN).text
    date = date_format(timezone.localtime(project.first_published_at), "DATE_FORMAT")
    assert f"Listed by the editors from LF AI &amp; Data Landscape on {date}, not yet reviewed" in text
    assert re.search(r'Source: <a href="https://landscape.lfaidata.foundation" rel="nofollow noopener">'
                     r"LF AI &amp; Data Landscape</a> \(CC-BY-4.0\)", text)  # fmt: skip


def test_a_reviewed_listing_says_when_the_association_reviewed_it(client, founder, staff_editor, reviewer):
    submission = published(founder, editor=staff_editor, reviewer=reviewer, name="Reviewed Tool")
    project = submission.project
    assert project.provenance == Project.Provenance.REVIEWED
    text = client.get(project.get_absolute_url(), headers=EN).text
    assert "Reviewed by the association on" in text and "not yet reviewed" not in text
    assert "Claim it" not in text  # its founder owns it


def test_a_claim_makes_the_listing_claimed_not_reviewed(client, founder, staff_editor, reviewer):
    project = claimed(imported(), founder, staff_editor, reviewer)
    assert project.owner == founder and project.claimed_at is not None
    assert not project.verified  # the association checked who runs it, not what it says
    assert project.provenance == Project.Provenance.CLAIMED
    text = client.get(project.get_absolute_url(), headers=EN).text
    assert "Claimed by its founder on" in text and "its content is not yet reviewed" in text
    assert "Claim it" not in text


def test_cards_and_tiles_carry_the_mark(client, founder, staff_editor, reviewer):
    published(founder, editor=staff_editor, reviewer=reviewer, name="Reviewed Tool", track_slug="coding")
    imported("Listed Tool")
    cards = client.get("/projects/", headers=EN).text
    reviewed_card = cards.split("Reviewed Tool")[1].split("</article>")[0]
    listed_card = cards.split("Listed Tool")[1].split("</article>")[0]
    assert "provenance-reviewed" in reviewed_card and "Reviewed by the association" in reviewed_card
    assert "provenance-listed" in listed_card and "Not yet reviewed" in listed_card

    landscape = client.get("/map/", headers=EN).text
    tiles = re.findall(r'<a class="tile([^"]*)"[^>]*>(.*?)</a></li>', landscape, re.S)
    by_name = {re.search(r"<strong>(.*?)</strong>", body).group(1): (css, body) for css, body in tiles}
    assert "is-reviewed" in by_name["Reviewed Tool"][0] and 'class="tile-mark"' in by_name["Reviewed Tool"][1]
    assert "is-reviewed" not in by_name["Listed Tool"][0] and "tile-mark" not in by_name["Listed Tool"][1]
    assert "Listed, not yet reviewed" in by_name["Listed Tool"][1]
    assert "tiles without the mark are listed from public sources" in landscape


def test_the_downloads_and_the_api_carry_provenance_reviewed_at_and_source(
    client, founder, staff_editor, reviewer
):
    published(founder, editor=staff_editor, reviewer=reviewer, name="Reviewed Tool")
    imported("Listed Tool")
    api = {item["name"]: item for item in json.loads(client.get("/api/projects/").content)["results"]}
    assert api["Reviewed Tool"]["provenance"] == "reviewed" and api["Reviewed Tool"]["reviewed_at"]
    assert api["Reviewed Tool"]["source"] == ""
    assert api["Listed Tool"]["provenance"] == "listed" and api["Listed Tool"]["reviewed_at"] is None
    assert (
        api["Listed Tool"]["source"]
        == "LF AI & Data Landscape (CC-BY-4.0) https://landscape.lfaidata.foundation"
    )

    rows = {row["name"]: row for row in json.loads(text_of(client.get("/data/projects.json")))}
    for name in api:
        for column in ("provenance", "reviewed_at", "source"):
            assert rows[name][column] == api[name][column], (name, column)

    text = text_of(client.get("/data/projects.csv")).removeprefix("\ufeff")
    table = {row["name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert table["Listed Tool"]["provenance"] == "listed" and table["Listed Tool"]["reviewed_at"] == ""
    assert table["Listed Tool"]["source"] == api["Listed Tool"]["source"]
    assert table["Reviewed Tool"]["reviewed_at"] == api["Reviewed Tool"]["reviewed_at"]


# --- Claim where it is needed ----------------------------------------------------------------


def test_an_editors_listing_offers_a_claim_and_a_visitor_is_sent_to_log_in_first(client):
    project = make_project(listed_by="editors", name="Unclaimed")
    text = client.get(project.get_absolute_url(), headers=EN).text
    claim_url = f"/projects/{project.slug}/claim/"
    assert f'<a href="{claim_url}">Claim it</a>' in text and "Is this your project?" in text
    response = client.get(claim_url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert response["Location"] == f"/accounts/login/?next={claim_url}"


def test_the_claimant_sees_the_claim_under_review_on_the_page(founder_client, founder):
    project = make_project(listed_by="editors", name="Unclaimed")
    workflow.claim(project, by=founder, evidence="I run it")
    text = founder_client.get(project.get_absolute_url(), headers=EN).text
    assert "Your claim of this listing is under review." in text and "Claim it" not in text


def test_claiming_an_owned_or_unpublished_listing_is_refused_with_a_message(founder_client, other_founder):
    owned = make_project(owner=other_founder, name="Owned")
    hidden = make_project(listed_by="editors", published=False, name="Hidden")
    assert "Claim it" not in founder_client.get(owned.get_absolute_url(), headers=EN).text
    response = founder_client.post(f"/projects/{owned.slug}/claim/", {"claim_evidence": "mine"}, headers=EN)
    assert response.status_code == 200 and "already has an owner" in response.text
    assert (
        founder_client.post(f"/projects/{hidden.slug}/claim/", {"claim_evidence": "mine"}).status_code == 404
    )
    assert not Submission.objects.filter(project__in=[owned, hidden]).exists()
