"""The open-data round trip: the public CSV export, imported into an empty instance, gives
back the same published data; and the real long list (../shared/data) imports twice
with the second import changing nothing."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from registry.models import Project
from registry.opendata import READ_ONLY_COLUMNS
from review.importing import apply_import, plan_import
from review.models import Event
from tests.base import make_project

pytestmark = pytest.mark.django_db

# What an import cannot carry over: the listing's history (dates, who listed it, whether
# the association reviewed it) and the logo files, which a CSV does not contain.
NOT_CARRIED = set(READ_ONLY_COLUMNS) | {"logo"}
# The shared real list, kept in tests/data/ (CC-BY-4.0, LF AI & Data Foundation).
LONG_LIST = Path(__file__).resolve().parents[1] / "data" / "lfai-landscape-longlist.csv"


def published_data(client):
    """{slug: {column: cell}} of the public CSV, without the columns an import cannot carry."""
    response = client.get(reverse("registry:data-csv"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    return {row["slug"]: {k: v for k, v in row.items() if k not in NOT_CARRIED} for row in rows}, text


def some_projects():
    make_project(
        name="深言科技",
        name_en="DeepLang",
        track_slug="customer-service",
        secondary=("agents", "coding"),
        tagline='客服机器人, for "everyone"',
        description="第一段，有逗号。\n\nSecond paragraph; with a semicolon.",
        website="https://github.com/deeplang/bot",
        organization="深言",
        founded_year=2019,
        hq_city="北京",
        hq_country="CN",
        stage="growth",
        funding_stage="series_a",
        team_size="11_50",
        business_models=["subscription", "usage"],
        target_market="global",
        customer_types=["enterprise", "developer"],
        foundation_models=["open_source"],
        models_used="Qwen2.5, DeepSeek-V3",
        modalities=["text", "audio"],
        seeking=["investment", "partners"],
        status="active",
        contact_email="hello@deeplang.example",
        show_contact_email=True,
    )
    make_project(name="=Genius", tagline="+86 starts like a formula", track_slug="video", hq_country="US")
    make_project(
        name="Quiet", contact_email="private@example.com", show_contact_email=False, status="closed",
        status_since=date(2025, 5, 31), status_evidence="https://news.example/quiet-closes",
    )  # fmt: skip
    make_project(name="Not yet public", published=False)


def test_the_public_csv_imports_into_an_empty_instance_and_gives_back_the_same_published_data(client):
    some_projects()
    before, text = published_data(client)
    assert len(before) == 3 and "private@example.com" not in text and "Not yet public" not in text

    Event.objects.all().delete()
    Project.objects.all().delete()
    result = apply_import(text.encode("utf-8-sig"), public_contact_emails=True, source="export.csv")

    assert (result.created, result.errors, result.plan.warnings) == (3, 0, [])
    after, _ = published_data(client)
    assert after == before
    # ... and importing it once more changes nothing.
    assert apply_import(text.encode("utf-8"), public_contact_emails=True).unchanged == 3


def test_the_real_long_list_imports_and_a_second_import_changes_nothing():
    data = LONG_LIST.read_bytes()

    first = apply_import(data, source=LONG_LIST.name)
    second = apply_import(data, source=LONG_LIST.name)

    assert first.created > 450 and first.errors == 1  # "Prefect" is in the list twice
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)
    assert Project.objects.filter(listed_by="editors", owner=None).count() == first.created


def test_the_real_long_list_with_its_look_alikes_imports_twice_the_same_and_invents_no_country():
    data = LONG_LIST.read_bytes()
    flagged = [row.line for row in plan_import(data).rows if row.flagged]
    assert flagged  # the real list has near-duplicate names and shared hosts

    first = apply_import(data, source=LONG_LIST.name, include_flagged=flagged)
    events = Event.objects.count()
    second = apply_import(data, source=LONG_LIST.name, include_flagged=flagged)

    assert (second.created, second.updated) == (0, 0) and second.unchanged == first.created
    assert Event.objects.count() == events
    imported = Project.objects.filter(listed_by="editors")
    assert imported.count() == first.created
    assert not imported.exclude(hq_country="").exists()  # the list gives no country: unknown, never CN
    assert imported.get(name="PyTorch Geometric").hq_country == ""  # TU Dortmund's: not China
