"""The map's tiles: each track's first TILES_PER_TRACK projects by name.

Read in one query whatever the number of tracks. On PostgreSQL, the tracks with projects
to show, each joined LATERAL to the ids of its `ORDER BY name, id LIMIT n`: the first
entries of the index registry_project_tile_idx (track, name, id, over published rows,
carrying the filtered columns; registry.publicsql generates it), so a track of 10,000
projects costs 60 index entries, not a sort of the track (the former row_number() over
every public row took ~450 ms at 100,000 projects), and a filter is tested on the index
entries rather than on table rows (a rare two-filter mix read 94,000 table pages: 415 ms);
then the rows of those ids. Elsewhere (SQLite, small), row_number() over each track.
"""

import re

from django.db import connections
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from registry.images import thumbnail_name
from registry.listing import ENDED, GONE, Status
from registry.models import Project

TILES_PER_TRACK = 60
TILE_FIELDS = ("pk", "name", "slug", "tagline", "logo", "status", "track_id", "verified", "status_since")


def first_tiles(projects, track_ids, per_track=TILES_PER_TRACK, *, filtered=False):
    """{track id: [(pk, name, slug, tagline, logo, status, track id, verified, status since), ...]}: the first
    `per_track` of `projects` in each of `track_ids`, by name then pk. One query.
    `filtered`: `projects` has filters besides the tracks (the ids are then found first)."""
    track_ids = list(track_ids)
    if not track_ids:
        return {}
    projects = projects.order_by()
    db = connections[projects.db]
    rows = _lateral(projects, track_ids, per_track, db, filtered) if db.vendor == "postgresql" else None
    if rows is None and db.features.supports_slicing_ordering_in_compound:
        parts = [_first_of_track(projects, track_id, per_track) for track_id in track_ids]
        rows = parts[0].union(*parts[1:], all=True).order_by("track_id", "name", "pk")
    elif rows is None:
        place = Window(RowNumber(), partition_by=[F("track")], order_by=[F("name").asc(), F("pk").asc()])
        rows = (
            projects.filter(track__in=track_ids)
            .annotate(place=place)
            .filter(place__lte=per_track)
            .order_by("track", "place")
            .values_list(*TILE_FIELDS)
        )
    tiles = {}
    for row in rows:
        tiles.setdefault(row[6], []).append(row)
    return tiles


def _first_of_track(projects, track_id, per_track, fields=TILE_FIELDS):
    return projects.filter(track=track_id).values_list(*fields).order_by("name", "pk")[:per_track]


SENTINEL = -7_262_011  # a track id no track has: marks where the track goes in the compiled SQL
PLACEHOLDER = re.compile(r"%%|%s")


def _lateral(projects, track_ids, per_track, db, filtered):
    """The rows of one track's first tiles, for every track: `unnest(track ids) CROSS JOIN
    LATERAL (that query, for this track)`. One subquery to plan (a UNION ALL of fifteen cost
    PostgreSQL 5 ms of planning), each track read from the start of the tile index. With
    other filters, the subquery gives only ids, so that the filters are tested on the index
    entries (an index-only scan), and the rows of those ids are joined afterwards; without,
    the rows come straight from the index scan (the join would cost 900 lookups more). None
    if the compiled query is not the one expected."""
    first = _first_of_track(projects, SENTINEL, per_track, fields=("pk",) if filtered else TILE_FIELDS)
    sql, params = first.query.get_compiler(connection=db).as_sql()
    where = [index for index, value in enumerate(params) if value == SENTINEL]
    if len(where) != 1:
        return None
    (index,) = where
    placeholders = [match for match in PLACEHOLDER.finditer(sql) if match.group() == "%s"]
    if len(placeholders) != len(params):
        return None
    at = placeholders[index]
    sql = f"{sql[: at.start()]}track.id{sql[at.end() :]}"
    params = [*params[:index], *params[index + 1 :]]
    lateral = f"unnest(%s::bigint[]) AS track(id) CROSS JOIN LATERAL ({sql}) AS tile"
    if filtered:
        meta = Project._meta
        columns = ", ".join(f"p.{meta.get_field(name).column}" for name in TILE_FIELDS if name != "pk")
        query = f"SELECT p.{meta.pk.column}, {columns} FROM {lateral} JOIN {meta.db_table} AS p ON p.{meta.pk.column} = tile.pk"
    else:
        query = f"SELECT tile.* FROM {lateral}"
    order = {name: number for number, name in enumerate(TILE_FIELDS, start=1)}
    with db.cursor() as cursor:
        cursor.execute(
            f"{query} ORDER BY {order['track_id']}, {order['name']}, {order['pk']}", [track_ids, *params]
        )
        return cursor.fetchall()


def tiles(rows):
    """Each row of first_tiles as registry/landscape.html shows it (a logo, or the name's first
    letter, linking to the project; its name and tagline in a tooltip): its id, name, tagline,
    link, logo and thumbnail, its end state if it has one (and whether it is gone: closed or
    acquired), and whether the association
    reviewed it (a small mark on the tile)."""
    url = reverse("registry:project-detail", kwargs={"slug": "-"})
    before, after = url.rsplit("-", 1)
    storage = Project._meta.get_field("logo").storage
    thumbnails = {}
    shown = []
    labels = dict(Status.choices)
    for pk, name, slug, tagline, logo, status, _track, reviewed, since in rows:
        if logo and logo not in thumbnails:
            thumbnails[logo] = storage.url(thumbnail_name(logo))
        shown.append(
            {
                "pk": pk,
                "name": name,
                "tagline": tagline,
                "url": f"{before}{slug}{after}",
                "logo": logo,
                "logo_thumbnail_url": thumbnails.get(logo, ""),
                # closed and acquired ones are faded; every end state is named, with its month
                "gone": status in GONE,
                "status": status,
                "status_label": labels.get(status, "") if status in ENDED else "",
                "status_since": since,
                "reviewed": reviewed,
            }
        )
    return shown
