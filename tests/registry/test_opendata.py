"""Open data: CSV and JSON downloads and the JSON API, filtered like the list, published only."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.opendata import COLUMNS
from tests.base import make_project

pytestmark = pytest.mark.django_db


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_json(response):
    return json.loads(b"".join(response.streaming_content).decode("utf-8"))


@pytest.fixture
def listings(db):
    return [
        make_project(name="灵犀客服", track_slug="customer-service", secondary=["agents", "coding"],
                     business_models=["subscription", "usage"], contact_email="hi@lingxi.example",
                     show_contact_email=True, hq_country="CN"),
        make_project(name="=HYPERLINK(\"http://evil.example\")", track_slug="coding", tagline="+1 formula",
                     contact_email="secret@example.com", show_contact_email=False),
        make_project(name="Draft", published=False),
        make_project(name="Scheduled", published_at=timezone.now() + timedelta(days=2)),
    ]  # fmt: skip


def test_the_csv_has_the_schema_columns_and_published_rows_only(client, listings):
    response = client.get("/data/projects.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(response)
    assert list(rows[0]) == COLUMNS
    assert {row["name"] for row in rows} == {"灵犀客服", '\'=HYPERLINK("http://evil.example")'}
    lingxi = next(row for row in rows if row["name"] == "灵犀客服")
    assert lingxi["secondary_tracks"] == "agents;coding"
    assert lingxi["business_models"] == "subscription;usage"
    assert lingxi["track"] == "customer-service" and lingxi["hq_country"] == "CN"
    assert lingxi["contact_email"] == "hi@lingxi.example"
    assert lingxi["url"] == "http://testserver/projects/ling-xi-ke-fu/"


def test_the_csv_neutralises_formulas_and_hides_private_contacts(client, listings):
    rows = read_csv(client.get("/data/projects.csv"))
    evil = next(row for row in rows if "HYPERLINK" in row["name"])
    assert evil["name"].startswith("'=") and evil["tagline"] == "'+1 formula"
    assert evil["contact_email"] == ""
    assert "secret@example.com" not in json.dumps(rows)


def test_the_downloads_follow_the_list_filters(client, listings):
    assert [row["name"] for row in read_csv(client.get("/data/projects.csv?track=customer-service"))] == [
        "灵犀客服"
    ]
    data = read_json(client.get("/data/projects.json?business_models=usage"))
    assert [item["name"] for item in data] == ["灵犀客服"]
    assert data[0]["secondary_tracks"] == ["agents", "coding"]
    assert data[0]["business_models"] == ["subscription", "usage"]


def test_the_api_paginates_with_links(client, listings):
    for n in range(3):
        make_project(name=f"Extra {n}")
    first = client.get("/api/projects/?page_size=2").json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["next"].endswith("page_size=2&page=2") and first["previous"] is None
    last = client.get("/api/projects/?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None


@pytest.mark.parametrize(
    ("query", "status"), [("page=99", 404), ("page=abc", 404), ("page_size=0", 400), ("page_size=x", 400)]
)
def test_the_api_answers_bad_paging_clearly(client, listings, query, status):
    response = client.get(f"/api/projects/?{query}")
    assert response.status_code == status and "detail" in response.json()


def test_the_api_reports_ignored_filters(client, listings):
    data = client.get("/api/projects/?stage=unicorn", headers={"accept-language": "en"}).json()
    assert data["count"] == 2 and "not understood" in data["ignored"][0]


def test_one_project_by_slug_and_404_for_the_unpublished(client, listings):
    assert client.get(f"/api/projects/{listings[0].slug}/").json()["name"] == "灵犀客服"
    assert client.get(f"/api/projects/{listings[2].slug}/").status_code == 404
    assert client.get(f"/api/projects/{listings[3].slug}/").status_code == 404


def test_tracks_with_public_counts(client, listings):
    data = client.get("/api/tracks/").json()
    assert data["count"] == 15
    counts = {track["slug"]: track["project_count"] for track in data["results"]}
    assert counts["customer-service"] == 1 and counts["coding"] == 1 and counts["agents"] == 0
    assert data["results"][0]["name_zh"] == "AI陪伴与社交"


@pytest.mark.parametrize(
    "url", ["/api/projects/?page_size=5", "/api/projects/?page_size=50", "/data/projects.csv"]
)
def test_queries_do_not_grow_with_the_rows(client, django_assert_max_num_queries, url):
    for n in range(30):
        make_project(name=f"Row {n}", secondary=["agents"] if n % 2 else ())
    with django_assert_max_num_queries(6):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
