"""Filter amplification (issue 15): every active value's chip links to the rest of the
query, so an unbounded address made a page that grew with its square. Repeated values
count once; beyond MAX_QUERY_LENGTH characters or MAX_QUERY_VALUES values, a 414 page
says so; the admin's own filters are not touched."""

from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.base import make_project, make_user

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
PUBLIC = [
    "/projects/",
    "/map/",
    "/stats/",
    "/api/projects/",
    "/data/projects.csv",
    "/feed/",
    "/tracks/coding/",
]


def test_the_issues_long_address_gets_a_short_clear_answer(client):
    make_project(track_slug="coding")
    # about 7 KB: the address that made a 4.7 MB page
    query = urlencode([("stage", f"idea{n}") for n in range(600)])
    assert len(query) > 7000
    response = client.get(f"/projects/?{query}", headers=EN)
    assert response.status_code == 414
    assert len(response.content) < 60_000  # was 4.7 MB; the language links still carry the address once each
    assert "Too many filters" in response.text and str(settings.MAX_QUERY_VALUES) in response.text


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_address_is_bounded(client, path):
    make_project(track_slug="coding")
    many = urlencode([("stage", "idea")] * (settings.MAX_QUERY_VALUES + 1))
    assert client.get(f"{path}?{many}", headers=EN).status_code == 414
    long = urlencode({"q": "x" * (settings.MAX_QUERY_LENGTH + 1)})
    assert client.get(f"{path}?{long}", headers=EN).status_code == 414
    assert client.get(f"{path}?stage=idea", headers=EN).status_code == 200


def test_at_the_limits_the_page_is_served_and_its_size_stays_bounded(client):
    make_project(track_slug="coding")
    values = [("track", "coding"), ("stage", "idea"), ("stage", "mvp"), ("stage", "growth")]
    values += [("hq_country", code) for code in ["CN", "US", "SG", "JP", "DE", "GB", "FR", "KR", "IN", "CA"]]
    values += [("business_models", "subscription")] * (settings.MAX_QUERY_VALUES - len(values))  # repeats
    response = client.get("/projects/?" + urlencode(values), headers=EN)
    assert response.status_code == 200
    assert len(response.content) < 400_000


def test_repeated_values_count_once(client):
    make_project(track_slug="coding", stage="idea")
    response = client.get("/projects/?" + urlencode([("stage", "idea")] * 5), headers=EN)
    assert response.status_code == 200
    assert [chip[1] for chip in response.context["chips"]] == ["Idea"]


def test_the_admin_is_left_alone(client):
    editor = make_user("editor", is_staff=True, is_superuser=True)
    client.force_login(editor)
    long = urlencode({"q": "x" * (settings.MAX_QUERY_LENGTH + 1)})
    assert client.get(f"/{settings.ADMIN_URL}registry/project/?{long}").status_code == 200
