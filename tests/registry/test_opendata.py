"""Open data: CSV and JSON downloads and the JSON API, filtered like the list, published only."""

import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from registry import opendata
from registry.api import open_projects
from registry.models import Project, Track
from registry.opendata import COLUMNS
from registry.spreadsheets import csv_lines
from tests.base import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    """The site's address (SITE_URL): every absolute URL comes from it (registry.absolute)."""
    settings.SITE_URL = "http://testserver"


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
    "url", ["/api/projects/?page_size=5", "/api/projects/?page_size=50", "/data/projects.csv?q=Row"]
)
def test_queries_do_not_grow_with_the_rows(client, django_assert_max_num_queries, url):
    for n in range(30):
        make_project(name=f"Row {n}", secondary=["agents"] if n % 2 else ())
    with django_assert_max_num_queries(6):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)


# --- The exact output, pinned ----------------------------------------------------------
# The downloads are read by other people's programs: the same data must give the same
# bytes, whatever is done to make them faster.


@pytest.fixture
def pinned(db):
    utc = UTC
    lingxi = make_project(
        name="灵犀客服",
        name_en="LingXi",
        slug="ling-xi",
        tagline='客服, "智能" 助手',
        description='第一段。\n\n第二段, with a comma and "quotes".',
        track_slug="customer-service",
        secondary=["coding", "agents"],
        organization="灵犀科技有限公司",
        website="https://lingxi.example/",
        logo="logos/0123456789abcdef0123456789abcdef.webp",
        founded_year=2019,
        hq_city="杭州",
        hq_country="CN",
        stage="growth",
        funding_stage="series_a",
        team_size="11_50",
        business_models=["usage", "subscription"],
        target_market="china",
        customer_types=["enterprise"],
        foundation_models=["open_source", "self_developed"],
        models_used="Qwen2.5, DeepSeek-V3",
        modalities=["text", "audio"],
        seeking=["investment", "partners"],
        status="active",
        contact_email="hi@lingxi.example",
        show_contact_email=True,
        listed_by="editors",
        verified=True,
        verified_at=datetime(2025, 2, 28, 10, 0, 0, tzinfo=utc),
        last_verified_at=datetime(2025, 2, 28, 10, 0, 0, tzinfo=utc),
        published_at=datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=utc),
    )
    evil = make_project(
        name='=HYPERLINK("http://evil.example")',
        slug="evil",
        tagline="+1 formula",
        description="-minus\r\nnext line",
        organization="@SUM(A1)",
        hq_city="\tTabbed",
        models_used="\rCR",
        track_slug="coding",
        website="http://evil.example/?a=1&b=2",
        hq_country="US",
        contact_email="secret@example.com",
        show_contact_email=False,
        status="closed",
        status_since=date(2025, 6, 30),
        status_evidence="=1+1 (formula)",
        listed_by="editors",
        source_name="LF AI & Data landscape",
        source_url="https://landscape.lfai.foundation/",
        source_licence="CC-BY-4.0",
        published_at=datetime(2025, 2, 1, 0, 0, 0, tzinfo=utc),
    )
    plain = make_project(
        name="Plain",
        slug="plain",
        tagline="Nothing special",
        track_slug="agents",
        secondary=["healthcare"],
        logo="logos/产品 logo (1).png",
        founded_year=2024,
        hq_country="SG",
        status="pivoted",
        status_since=date(2025, 4, 1),
        status_evidence="https://plain.example/news",
        successor=lingxi,
        published_at=datetime(2025, 2, 1, 0, 0, 0, tzinfo=utc),
    )
    make_project(name="Draft", slug="draft", published=False)
    for project, updated in (
        (lingxi, datetime(2025, 3, 2, 9, 0, 0, 5, tzinfo=utc)),
        (evil, datetime(2025, 2, 3, 0, 0, tzinfo=utc)),
        (plain, datetime(2025, 2, 1, 12, 0, tzinfo=utc)),
    ):
        Project.objects.filter(pk=project.pk).update(updated_at=updated)
    return lingxi, evil, plain


PINNED_CSV_HEADER = "\ufeffname,name_en,slug,tagline,description,track,secondary_tracks,organization,website,logo,founded_year,hq_city,hq_country,stage,funding_stage,team_size,business_models,target_market,customer_types,foundation_models,models_used,modalities,seeking,status,status_since,status_evidence,acquired_by,acquirer,successor,contact_email,url,logo_url,verified,listed_by,published_at,updated_at,provenance,reviewed_at,source,last_verified_at\r\n"
PINNED_CSV = {
    "lingxi": '灵犀客服,LingXi,ling-xi,"客服, ""智能"" 助手","第一段。\n\n第二段, with a comma and ""quotes"".",customer-service,agents;coding,灵犀科技有限公司,https://lingxi.example/,logos/0123456789abcdef0123456789abcdef.webp,2019,杭州,CN,growth,series_a,11_50,subscription;usage,china,enterprise,open_source;self_developed,"Qwen2.5, DeepSeek-V3",text;audio,investment;partners,active,,,,,,hi@lingxi.example,http://testserver/projects/ling-xi/,http://testserver/media/logos/0123456789abcdef0123456789abcdef.webp,true,editors,2025-03-01T08:30:15.123456+00:00,2025-03-02T09:00:00.000005+00:00,reviewed,2025-02-28T10:00:00+00:00,,2025-02-28T10:00:00+00:00\r\n',
    "plain": 'Plain,,plain,Nothing special,"First paragraph.\n\nSecond paragraph.",agents,healthcare,,,logos/产品 logo (1).png,2024,,SG,,,,,,,,,,,pivoted,2025-04-01,https://plain.example/news,,,ling-xi,,http://testserver/projects/plain/,http://testserver/media/logos/%E4%BA%A7%E5%93%81%20logo%20(1).png,false,founder,2025-02-01T00:00:00+00:00,2025-02-01T12:00:00+00:00,submitted,,,\r\n',
    "evil": '"\'=HYPERLINK(""http://evil.example"")",,evil,\'+1 formula,"\'-minus\r\nnext line",coding,,\'@SUM(A1),http://evil.example/?a=1&b=2,,,\'\tTabbed,US,,,,,,,,"\'\rCR",,,closed,2025-06-30,\'=1+1 (formula),,,,,http://testserver/projects/evil/,,false,editors,2025-02-01T00:00:00+00:00,2025-02-03T00:00:00+00:00,listed,,LF AI & Data landscape (CC-BY-4.0) https://landscape.lfai.foundation/,\r\n',
}
PINNED_JSON = {
    "lingxi": '{"name": "灵犀客服", "name_en": "LingXi", "slug": "ling-xi", "tagline": "客服, \\"智能\\" 助手", "description": "第一段。\\n\\n第二段, with a comma and \\"quotes\\".", "track": "customer-service", "secondary_tracks": ["agents", "coding"], "organization": "灵犀科技有限公司", "website": "https://lingxi.example/", "logo": "logos/0123456789abcdef0123456789abcdef.webp", "founded_year": 2019, "hq_city": "杭州", "hq_country": "CN", "stage": "growth", "funding_stage": "series_a", "team_size": "11_50", "business_models": ["subscription", "usage"], "target_market": "china", "customer_types": ["enterprise"], "foundation_models": ["open_source", "self_developed"], "models_used": "Qwen2.5, DeepSeek-V3", "modalities": ["text", "audio"], "seeking": ["investment", "partners"], "status": "active", "status_since": null, "status_evidence": "", "acquired_by": "", "acquirer": "", "successor": "", "contact_email": "hi@lingxi.example", "url": "http://testserver/projects/ling-xi/", "logo_url": "http://testserver/media/logos/0123456789abcdef0123456789abcdef.webp", "verified": true, "listed_by": "editors", "published_at": "2025-03-01T08:30:15.123456+00:00", "updated_at": "2025-03-02T09:00:00.000005+00:00", "provenance": "reviewed", "reviewed_at": "2025-02-28T10:00:00+00:00", "source": "", "last_verified_at": "2025-02-28T10:00:00+00:00"}',
    "plain": '{"name": "Plain", "name_en": "", "slug": "plain", "tagline": "Nothing special", "description": "First paragraph.\\n\\nSecond paragraph.", "track": "agents", "secondary_tracks": ["healthcare"], "organization": "", "website": "", "logo": "logos/产品 logo (1).png", "founded_year": 2024, "hq_city": "", "hq_country": "SG", "stage": "", "funding_stage": "", "team_size": "", "business_models": [], "target_market": "", "customer_types": [], "foundation_models": [], "models_used": "", "modalities": [], "seeking": [], "status": "pivoted", "status_since": "2025-04-01", "status_evidence": "https://plain.example/news", "acquired_by": "", "acquirer": "", "successor": "ling-xi", "contact_email": "", "url": "http://testserver/projects/plain/", "logo_url": "http://testserver/media/logos/%E4%BA%A7%E5%93%81%20logo%20(1).png", "verified": false, "listed_by": "founder", "published_at": "2025-02-01T00:00:00+00:00", "updated_at": "2025-02-01T12:00:00+00:00", "provenance": "submitted", "reviewed_at": null, "source": "", "last_verified_at": null}',
    "evil": '{"name": "=HYPERLINK(\\"http://evil.example\\")", "name_en": "", "slug": "evil", "tagline": "+1 formula", "description": "-minus\\r\\nnext line", "track": "coding", "secondary_tracks": [], "organization": "@SUM(A1)", "website": "http://evil.example/?a=1&b=2", "logo": "", "founded_year": null, "hq_city": "\\tTabbed", "hq_country": "US", "stage": "", "funding_stage": "", "team_size": "", "business_models": [], "target_market": "", "customer_types": [], "foundation_models": [], "models_used": "\\rCR", "modalities": [], "seeking": [], "status": "closed", "status_since": "2025-06-30", "status_evidence": "=1+1 (formula)", "acquired_by": "", "acquirer": "", "successor": "", "contact_email": "", "url": "http://testserver/projects/evil/", "logo_url": "", "verified": false, "listed_by": "editors", "published_at": "2025-02-01T00:00:00+00:00", "updated_at": "2025-02-03T00:00:00+00:00", "provenance": "listed", "reviewed_at": null, "source": "LF AI & Data landscape (CC-BY-4.0) https://landscape.lfai.foundation/", "last_verified_at": null}',
}


def body(response):
    return b"".join(response.streaming_content).decode("utf-8")


def pinned_csv(*names, scheme="http"):
    return PINNED_CSV_HEADER + "".join(PINNED_CSV[name] for name in names).replace(
        "http://testserver/", f"{scheme}://testserver/"
    )


def pinned_json(*names):
    return "[" + ",".join(PINNED_JSON[name] for name in names) + "]\n"


def test_the_csv_download_is_byte_for_byte_what_it_was(client, pinned):
    # Newest first (the same time: the newer row first); the draft never.
    assert body(client.get("/data/projects.csv")) == pinned_csv("lingxi", "plain", "evil")
    assert body(client.get("/data/projects.csv?track=agents&track=coding")) == pinned_csv("plain", "evil")
    # The request's scheme, host and port change nothing: the URLs are SITE_URL's.
    assert body(client.get("/data/projects.csv", secure=True, headers={"host": "testserver:31337"})) == (
        pinned_csv("lingxi", "plain", "evil")
    )
    assert body(client.get("/data/projects.csv?q=no-such-project")) == PINNED_CSV_HEADER


def test_the_json_download_is_byte_for_byte_what_it_was(client, pinned):
    assert body(client.get("/data/projects.json")) == pinned_json("lingxi", "plain", "evil")
    assert body(client.get("/data/projects.json?q=plain")) == pinned_json("plain")
    assert body(client.get("/data/projects.json?q=no-such-project")) == "[]\n"


def test_the_downloads_and_the_api_give_the_same_records(client, pinned):
    items = json.loads(body(client.get("/data/projects.json")))
    assert items == [client.get(f"/api/projects/{item['slug']}/").json() for item in items]
    assert items == client.get("/api/projects/").json()["results"]


@pytest.mark.parametrize(("fetch", "piece"), [(1, 1), (2, 2), (2, 500)])
def test_the_downloads_do_not_depend_on_how_they_are_read_or_cut(client, pinned, monkeypatch, fetch, piece):
    monkeypatch.setattr(opendata, "EXPORT_FETCH", fetch)
    monkeypatch.setattr(opendata, "EXPORT_PIECE", piece)
    response = client.get("/data/projects.csv")
    assert b"".join(response.streaming_content).decode() == pinned_csv("lingxi", "plain", "evil")
    assert body(client.get("/data/projects.json")) == pinned_json("lingxi", "plain", "evil")


def test_a_link_to_a_listing_the_public_may_not_see_is_left_empty(client, pinned):
    lingxi, _evil, plain = pinned
    draft = Project.objects.get(slug="draft")
    Project.objects.filter(pk=plain.pk).update(successor=draft)
    Project.objects.filter(pk=lingxi.pk).update(status="acquired", acquirer=draft, acquired_by="Hidden Co")
    items = {item["slug"]: item for item in json.loads(body(client.get("/data/projects.json")))}
    assert items["plain"]["successor"] == "" and items["ling-xi"]["acquirer"] == ""
    assert items["ling-xi"]["acquired_by"] == "Hidden Co"
    assert client.get("/api/projects/plain/").json()["successor"] == ""
    assert "draft" not in body(client.get("/data/projects.csv"))


def test_secondary_tracks_follow_the_tracks_order_and_slugs(client, pinned):
    Track.objects.filter(slug="coding").update(order=0)
    Track.objects.filter(slug="agents").update(order=99)
    Track.objects.filter(slug="agents").update(slug="ai-agents")
    items = json.loads(body(client.get("/data/projects.json")))
    assert items[0]["secondary_tracks"] == ["coding", "ai-agents"] and items[1]["track"] == "ai-agents"
    assert items == [client.get(f"/api/projects/{item['slug']}/").json() for item in items]
    assert ",customer-service,coding;ai-agents," in body(client.get("/data/projects.csv"))


@pytest.mark.parametrize(
    "options",
    [{"custom_domain": "cdn.example.org"}, {"endpoint_url": "https://oss.example.com"}, {}],
    ids=["custom domain", "endpoint", "AWS"],
)
def test_logo_urls_are_the_storages_on_s3_too(client, pinned, settings, options):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "aimap-media", "region_name": "cn-north-1", "querystring_auth": False,
                        "access_key": "key", "secret_key": "secret", **options},
        },
    }  # fmt: skip
    items = json.loads(body(client.get("/data/projects.json")))
    assert items == [client.get(f"/api/projects/{item['slug']}/").json() for item in items]
    logo_urls = [item["logo_url"] for item in items]
    assert logo_urls[0].startswith("https://") and logo_urls[0].endswith(
        "/logos/0123456789abcdef0123456789abcdef.webp"
    )
    assert "%E4%BA%A7%E5%93%81" in logo_urls[1] and logo_urls[2] == ""
    assert [row["logo_url"] for row in read_csv(client.get("/data/projects.csv"))] == logo_urls


NASTY = ['a', ',', '"', "'", '\r', '\n', '\r\n', ' ', '\t', '=', '+', '-', '@', ';', '\\', '{', '}', ':', '中', 'é',
         '\u2028', '\x01', '😀', '}, {"name": ', '"}, {\\"name\\": ']  # fmt: skip


@pytest.fixture
def nasty(db):
    """Projects whose text is made of everything a CSV or JSON writer must take care of."""
    chance = random.Random(7)
    text_fields = ["name", "name_en", "tagline", "description", "organization", "hq_city", "models_used"]
    projects = [
        make_project(name='}, {"name": "x', tagline='a "quoted", text\r\nline', description='"}, {\\"name\\": \\',
                     organization="=1+2", website="https://x.example/a,b?c=\"d\"", hq_city="中,文", models_used='""',
                     name_en="'", secondary=["agents"], logo="logos/a,b.png")
    ]  # fmt: skip
    for number in range(12):
        fields = {
            name: "".join(chance.choice(NASTY) for _ in range(chance.randint(0, 6))) for name in text_fields
        }
        fields["name"] = fields["name"] or "x"
        projects.append(make_project(slug=f"nasty-{number}", **fields))
    return projects


def test_the_downloads_are_what_record_csv_row_and_json_dumps_make(client, nasty):
    """The reference: opendata.record() of each project (as the API does), then csv_row()
    through the csv module, or json.dumps()."""
    absolute = RequestFactory().get("/").build_absolute_uri
    records = [
        opendata.record(project, absolute) for project in open_projects().order_by("-published_at", "-pk")
    ]
    assert len(records) == 13
    reference_csv = "".join(csv_lines(opendata.COLUMNS, [opendata.csv_row(record) for record in records]))
    reference_json = "[" + ",".join(json.dumps(record, ensure_ascii=False) for record in records) + "]\n"
    assert body(client.get("/data/projects.csv")) == reference_csv
    assert body(client.get("/data/projects.json")) == reference_json


def test_secondary_tracks_are_read_in_parts_where_the_database_limits_parameters(pinned, monkeypatch):
    ids = list(Project.objects.values_list("pk", flat=True))
    expected = {pinned[0].pk: ["agents", "coding"], pinned[2].pk: ["healthcare"]}
    assert opendata._secondary_track_slugs("default", ids) == expected
    monkeypatch.setattr(type(connection.features), "max_query_params", 1)  # PostgreSQL: one array parameter
    assert opendata._secondary_track_slugs("default", ids) == expected
