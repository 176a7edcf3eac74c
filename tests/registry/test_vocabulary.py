"""The filter vocabulary is declared once (registry.filters.ProjectFilterSet) and everything
that depends on it is derived from it: the columns the public and tile indexes carry, the
kept counts' scopes and keys, the dimensions /stats/ charts, the SQL of all of these and
the migrations that hold it. (NetBox's test_missing_filters is the model.)"""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict

from registry import counts, filters, publicsql, stats
from registry.filters import ProjectFilterSet
from registry.listing import Listing, TargetMarket
from registry.models import Project, Track

# Listing fields no filter compares, each with the reason. A new listing field must either
# get a filter (and so an index column, a count scope...) or be named here.
NOT_FILTERED = {
    "name": "free text: found by the search (q)",
    "name_en": "free text: found by the search (q)",
    "slug": "the page's address",
    "tagline": "free text: found by the search (q)",
    "description": "free text: found by the search (q)",
    "organization": "free text: found by the search (q)",
    "website": "an address",
    "logo": "an image",
    "models_used": "free text: found by the search (q)",
    "contact_email": "private unless shown",
    "show_contact_email": "a privacy choice",
    "secondary_tracks": "many-to-many: the track filter reads the primary track",
    "status_since": "a date: the status filter selects the end states, /stats/ charts when they came",
    "status_evidence": "free text: the evidence of an end state, shown on the project's page",
    "acquired_by": "a name, shown on the project's page",
    "acquirer": "a link to another listing, shown on both pages",
    "successor": "a link to another listing, shown on both pages",
}


def declared_columns():
    return {f.column for f in ProjectFilterSet.vocabulary().values()}


def include_of(statement):
    return [column.strip() for column in re.search(r"INCLUDE \(([^)]*)\)", statement).group(1).split(",")]


def test_every_listing_field_is_filtered_or_said_why_not():
    filtered = {f.field_name for f in ProjectFilterSet.vocabulary().values()}
    fields = {f.name for f in Listing._meta.get_fields() if f.concrete or f.many_to_many}
    missing = fields - filtered - set(NOT_FILTERED)
    assert not missing, (
        f"listing fields without a filter (declare one, or say why in NOT_FILTERED): {missing}"
    )
    assert not filtered & set(NOT_FILTERED)


def test_every_declared_filter_reads_a_listing_column():
    columns = {f.column for f in Project._meta.concrete_fields}
    assert declared_columns() <= columns
    undeclared = set(ProjectFilterSet.base_filters) - set(ProjectFilterSet.vocabulary())
    assert undeclared == {"q", "sort"}  # the search and the order compare no single column


def test_both_indexes_carry_every_filtered_column():
    units = publicsql.units()
    public = units["public_index"]["create"][0]
    tile = units["tile_index"]["create"][0]
    assert declared_columns() <= set(include_of(public))
    assert declared_columns() - {"track_id"} <= set(include_of(tile))
    assert "track_id" in tile.split("INCLUDE")[0]  # the tile index is by track
    assert public.endswith(")") and tile.endswith("WHERE published")


def test_every_choice_filter_is_a_count_scope_with_its_column_in_the_keys():
    keys_sql = counts.keys_function()
    key_columns = counts.key_columns()
    for name, filter_ in ProjectFilterSet.vocabulary().items():
        if filter_.kind == filters.ONE_OF:
            assert counts.one_of_scopes()[name] == filter_.column
            assert f"'{name}:' || {filter_.value_sql}" in keys_sql, name
        elif filter_.kind == filters.MANY_OF:
            assert counts.many_of_scopes()[name] == filter_.column
            assert f"string_to_array('{name}:' ||" in keys_sql, name
        else:
            assert name not in counts.one_of_scopes() and name not in counts.many_of_scopes()
            continue
        assert filter_.column in key_columns and filter_.column in counts.counted_columns(), name


def test_every_charted_filter_is_counted_and_charted():
    keys_sql = counts.keys_function()
    charted = ProjectFilterSet.charted()
    assert {"track", "hq_country", "hq_city", "stage", "funding_stage"} <= set(charted)
    for name, filter_ in charted.items():
        assert name in stats.DIMENSIONS
        assert f"'{name}'" in keys_sql, name
        assert filter_.column in counts.key_columns()
        own = name in stats.OWN_CHARTS
        listed = name in {chart[0] for chart in stats.ONE_OF + stats.MANY_OF}
        assert own != listed, name  # charted exactly once


@pytest.mark.django_db
def test_the_stats_page_shows_a_chart_per_charted_filter(client):
    response = client.get("/stats/")
    assert response.status_code == 200
    slugs = {chart.slug for chart in response.context["charts"]}
    expected = {"track", "country", "city"} | set(ProjectFilterSet.charted()) - set(stats.OWN_CHARTS)
    assert expected <= slugs


@pytest.mark.django_db
def test_every_filter_given_a_value_is_in_use():
    track = Track.objects.first()
    values = {
        "track": track.slug,
        "hq_country": "CN",
        "hq_city": "Beijing",
        "founded_min": "2001",
        "founded_max": "2020",
    }
    for name, filter_ in ProjectFilterSet.vocabulary().items():
        value = values.get(name) or str(filter_.extra["choices"][0][0])
        filterset = ProjectFilterSet(QueryDict(f"{name}={value}"), queryset=Project.objects.published())
        assert set(filterset.in_use()) == {name}, name
        assert filterset.narrows_beyond_tracks() == (name != "track")


@pytest.mark.django_db
def test_the_migrations_hold_the_generated_sql():
    assert publicsql.changes() == {}, "run `manage.py makemigrations`: the generated SQL changed"
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits 1 if anything is missing


def test_a_new_filter_changes_the_generated_sql_and_makemigrations_writes_it(monkeypatch):
    """What "How to add a filter" promises (docs/decisions/0013): the declaration alone changes
    every derived piece, and the migration written for it holds the new SQL."""

    class Extended(ProjectFilterSet):
        target_market_charted = filters.OneOfFilter(
            field_name="target_market", choices=TargetMarket.choices, label="Market", chart="Per market"
        )
        listed_by = filters.OneOfFilter(choices=Project.ListedBy.choices, label="Listed by")

    monkeypatch.setattr(counts, "ProjectFilterSet", Extended)
    monkeypatch.setattr(publicsql, "ProjectFilterSet", Extended)
    assert "listed_by" in counts.one_of_scopes()
    assert "listed_by" in counts.key_columns()
    assert "'listed_by:' || listed_by" in counts.keys_function()
    changed = publicsql.changes()
    assert set(changed) == {"counts", "public_index", "tile_index"}
    assert "listed_by" in include_of(changed["public_index"][1]["create"][0])
    file_name, text = publicsql.next_migration()
    assert re.fullmatch(r"\d{4}_public_sql", file_name)
    assert "'listed_by:' || listed_by" in text
    assert "from registry" not in text and "import registry" not in text
    namespace = {}
    exec(compile(text, file_name, "exec"), namespace)  # the written module is valid Python
    migration = namespace["Migration"]
    assert migration.public_sql["public_index"]["create"] == changed["public_index"][1]["create"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the generated SQL is PostgreSQL's")
def test_the_database_holds_what_the_vocabulary_generates():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'registry_project' AND indexname = ANY(%s)",
            [[publicsql.PUBLIC_INDEX, publicsql.TILE_INDEX]],
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT pg_get_function_identity_arguments(oid) FROM pg_proc WHERE proname = 'registry_public_keys'"
        )
        signatures = [row[0] for row in cursor.fetchall()]
    assert declared_columns() <= set(include_of(indexes[publicsql.PUBLIC_INDEX]))
    assert declared_columns() - {"track_id"} <= set(include_of(indexes[publicsql.TILE_INDEX]))
    assert len(signatures) == 1  # no overload left behind by an older signature
    assert [argument.split()[0] for argument in signatures[0].split(", ")][:-1] == list(counts.key_columns())
