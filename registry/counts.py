"""Counts of the public projects, kept by PostgreSQL as projects are written.

The map, the statistics and the home page count the public projects by track, country,
stage and so on. Counted afresh, that is a scan of every public row (hundreds of
milliseconds at 100,000 projects); here the database keeps the counts itself, so a page
reads a hundred small rows instead. Why and how: docs/decisions/0011-public-counts.md.

- `registry_publiccount` holds *pieces* of counts: (scope, dimension, value, n). A count
  is the sum of its pieces. The scope is '' (all public projects) or one filter value
  ('track:3', 'stage:growth', 'business_models:usage'...), so a page filtered by one
  value of one filter is counted too. The dimensions are what the pages show: '*' (the
  projects), 'reviewed', 'track', 'hq_country', 'hq_city', 'stage', 'funding_stage',
  'business_models', 'foundation_models' and 'month' (first publication, 'YYYY-MM' in the
  state's time zone).
- Statement triggers on registry_project append the pieces of every write: inserts,
  updates and deletes through the ORM, bulk_create, queryset.update(), COPY, raw SQL. No
  write path has to remember anything. A TRUNCATE forgets the counts (pages count afresh).
- `registry_publiccountstate` says the counts are kept and up to when: every project
  public at `counted_until` is counted. A project whose publication time comes later (a
  scheduled one, or one published since) is added when the counts are read, from the
  public index, so a scheduled project becomes public on every page at its time with no
  write at all. Reading folds those in now and then, and sums the pieces into one per
  count (`settle`), so neither grows without bound.
- Writers take a shared advisory lock (they never wait for each other); folding and
  rebuilding take it exclusively, so they never miss a write in progress. Writers never
  update a shared row, so the counts add no row-lock waits and no deadlocks to writes.

SQLite has no such triggers: there `read()` answers None and the pages count afresh
(registry/stats.py), as they do on PostgreSQL for filters the counts do not cover.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

LOCK = 7_262_011  # the advisory lock of the counts (any number no other code uses)

# Filters a scope can stand for: one of these with one or more values, and nothing else.
ONE_OF_SCOPES = ("track", "stage", "funding_stage", "team_size", "target_market", "status", "hq_country")
MANY_OF_SCOPES = ("business_models", "customer_types", "foundation_models", "modalities", "seeking")

# The columns whose change changes a count (an update touching none of them adds no pieces).
COUNTED_COLUMNS = (
    "published",
    "published_at",
    "first_published_at",
    "verified",
    "track_id",
    "hq_country",
    "hq_city",
    "stage",
    "funding_stage",
    "team_size",
    "target_market",
    "status",
    "business_models",
    "customer_types",
    "foundation_models",
    "modalities",
    "seeking",
)


def _codes(column):
    return f"string_to_array(trim(both ',' from {column}), ',')"


def _scoped_codes(column):
    """['column:code', ...] of a many-of column, by string functions alone (a subquery per row
    made counting 100,000 projects four times slower)."""
    return (
        f"CASE WHEN {column} = '' THEN '{{}}'::text[] ELSE "
        f"string_to_array('{column}:' || replace(trim(both ',' from {column}), ',', ',{column}:'), ',') END"
    )


# The columns the keys are made of, and their SQL types (the keys function's arguments).
KEY_COLUMNS = {
    "published_at": "timestamptz",
    "first_published_at": "timestamptz",
    "verified": "boolean",
    "track_id": "bigint",
    "hq_country": "text",
    "hq_city": "text",
    "stage": "text",
    "funding_stage": "text",
    "team_size": "text",
    "target_market": "text",
    "status": "text",
    "business_models": "text",
    "customer_types": "text",
    "foundation_models": "text",
    "modalities": "text",
    "seeking": "text",
}
KEYS_SIGNATURE = ", ".join([*KEY_COLUMNS.values(), "text"])


def keys_of(alias, time_zone):
    """The call of the keys function for the row `alias`."""
    return f"registry_public_keys({', '.join(f'{alias}.{column}' for column in KEY_COLUMNS)}, {time_zone})"


# (scope, dimension, value) of every count a project is in: every scope it belongs to,
# times every dimension value it has. One definition for the triggers, the rebuild and
# the reads, so they cannot disagree.
KEYS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_keys(
  {", ".join(f"{column} {kind}" for column, kind in KEY_COLUMNS.items())}, tz text
)
RETURNS TABLE(scope text, dimension text, value text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.scope, k.dimension, k.value
  FROM unnest(
    ARRAY['', 'track:' || track_id, 'stage:' || stage, 'funding_stage:' || funding_stage,
          'team_size:' || team_size, 'target_market:' || target_market, 'status:' || status,
          'hq_country:' || hq_country]
    || {" || ".join(_scoped_codes(column) for column in MANY_OF_SCOPES)}
  ) AS s(scope)
  CROSS JOIN unnest(
    ARRAY['*', 'track', 'hq_country', 'hq_city', 'stage', 'funding_stage', 'month', 'reviewed']
    || array_fill('business_models'::text, ARRAY[cardinality({_codes("business_models")})])
    || array_fill('foundation_models'::text, ARRAY[cardinality({_codes("foundation_models")})]),
    ARRAY['', track_id::text, hq_country, hq_city, stage, funding_stage,
          to_char(coalesce(first_published_at, published_at) AT TIME ZONE tz, 'YYYY-MM'),
          CASE WHEN verified THEN '' END]
    || {_codes("business_models")}
    || {_codes("foundation_models")}
  ) AS k(dimension, value)
  WHERE k.value IS NOT NULL
$$;
"""

_CHANGED = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in COUNTED_COLUMNS)

TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_counts_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  state record;
BEGIN
  PERFORM pg_advisory_xact_lock_shared({LOCK});
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN NULL;  -- the counts are not kept (never built, or forgotten by a TRUNCATE)
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, count(*)
    FROM new_rows AS p, {keys_of("p", "state.time_zone")} AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, -count(*)
    FROM old_rows AS p, {keys_of("p", "state.time_zone")} AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSE
    -- Only rows whose counted columns changed: the old version out, the new one in.
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, sum(w.sign)
    FROM (
      SELECT 1 AS sign, n.* FROM new_rows AS n
      WHERE NOT EXISTS (SELECT FROM old_rows AS o WHERE o.id = n.id AND NOT ({_CHANGED}))
      UNION ALL
      SELECT -1, o.* FROM old_rows AS o
      WHERE NOT EXISTS (SELECT FROM new_rows AS n WHERE n.id = o.id AND NOT ({_CHANGED}))
    ) AS w, {keys_of("w", "state.time_zone")} AS k
    WHERE w.published AND w.published_at <= state.counted_until
    GROUP BY 1, 2, 3
    HAVING sum(w.sign) <> 0;
  END IF;
  RETURN NULL;
END $$;
"""

TRUNCATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_counts_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK});
  DELETE FROM registry_publiccount;
  DELETE FROM registry_publiccountstate;
  RETURN NULL;
END $$;
"""

# Recount everything (the migration, seed_demo, `manage.py recount_public`).
REBUILD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_counts_rebuild(tz text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  upto timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK});
  upto := clock_timestamp();
  DELETE FROM registry_publiccount;
  DELETE FROM registry_publiccountstate;
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT k.scope, k.dimension, k.value, count(*)
  FROM registry_project AS p, {keys_of("p", "tz")} AS k
  WHERE p.published AND p.published_at <= upto
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  INSERT INTO registry_publiccountstate (id, counted_until, time_zone) VALUES (1, upto, tz);
END $$;
"""

# Fold in the projects whose publication time has come since counted_until (their pieces
# added), and with `compact`, sum all the pieces into one per count. Never waits: if a
# writer is at work, it is left for later.
SETTLE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_counts_settle(compact boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  state record;
  upto timestamptz;
BEGIN
  IF NOT pg_try_advisory_xact_lock({LOCK}) THEN
    RETURN false;
  END IF;
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  upto := greatest(state.counted_until, clock_timestamp());
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT k.scope, k.dimension, k.value, count(*)
  FROM registry_project AS p, {keys_of("p", "state.time_zone")} AS k
  WHERE p.published AND p.published_at > state.counted_until AND p.published_at <= upto
  GROUP BY 1, 2, 3;
  UPDATE registry_publiccountstate SET counted_until = upto WHERE id = 1;
  IF compact THEN
    WITH gone AS (DELETE FROM registry_publiccount RETURNING scope, dimension, value, n)
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT g.scope, g.dimension, g.value, sum(g.n)
    FROM gone AS g
    GROUP BY 1, 2, 3
    HAVING sum(g.n) <> 0
    ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  END IF;
  RETURN true;
END $$;
"""

# The counts of some scopes (summed: for several values of one one-of filter), as public
# at `at`: the kept pieces, plus the projects public at `at` but not at counted_until, minus
# those public at counted_until but not at `at` (the application's clock behind the
# database's), by dimension, then n (largest first), then value; and the row ('#time_zone',
# the months' time zone, 0). Nothing at all
# when the counts are not kept. Settles first when that is worth it: projects have become
# public since counted_until, or the pieces of the unfiltered scope pile up (more than
# SETTLE_PIECES; about 100 once compacted). A plain count of them: counting the distinct
# (dimension, value) pairs cost 3-4 ms on every read.
SETTLE_PIECES = 1000
READ_FUNCTION = f"""
CREATE OR REPLACE FUNCTION registry_public_counts(scopes text[], at timestamptz)
RETURNS TABLE(dimension text, value text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
  state record;
  due timestamptz := least(at, clock_timestamp());  -- a value, so both bounds use the index
  compact boolean;
BEGIN
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  compact := (SELECT count(*) FROM registry_publiccount AS c WHERE c.scope = '') > {SETTLE_PIECES};
  IF compact OR EXISTS (
       SELECT FROM registry_project AS p
       WHERE p.published AND p.published_at > state.counted_until AND p.published_at <= due) THEN
    IF registry_public_counts_settle(compact) THEN
      SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
    END IF;
  END IF;
  RETURN QUERY
    SELECT '#time_zone'::text, state.time_zone::text, 0::bigint
    UNION ALL
    SELECT c.dimension::text, c.value::text, sum(c.n)::bigint
    FROM (
      SELECT x.dimension, x.value, x.n FROM registry_publiccount AS x WHERE x.scope = ANY(scopes)
      UNION ALL
      SELECT k.dimension, k.value, CASE WHEN p.published_at > state.counted_until THEN 1 ELSE -1 END
      FROM registry_project AS p, {keys_of("p", "state.time_zone")} AS k
      WHERE p.published
        AND (p.published_at > state.counted_until AND p.published_at <= at
             OR p.published_at > at AND p.published_at <= state.counted_until)
        AND k.scope = ANY(scopes)
    ) AS c
    GROUP BY 1, 2
    HAVING sum(c.n) <> 0
    ORDER BY 1, 3 DESC, 2;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER registry_public_counts_inserted AFTER INSERT ON registry_project
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_updated AFTER UPDATE ON registry_project
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_deleted AFTER DELETE ON registry_project
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_truncated AFTER TRUNCATE ON registry_project
  FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_truncated();
"""

INSTALL_SQL = [
    KEYS_FUNCTION,
    TRIGGER_FUNCTION,
    TRUNCATE_FUNCTION,
    REBUILD_FUNCTION,
    SETTLE_FUNCTION,
    READ_FUNCTION,
    TRIGGERS,
]

UNINSTALL_SQL = [
    "DROP TRIGGER IF EXISTS registry_public_counts_inserted ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_updated ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_deleted ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_truncated ON registry_project",
    "DROP FUNCTION IF EXISTS registry_public_counts(text[], timestamptz)",
    "DROP FUNCTION IF EXISTS registry_public_counts_settle(boolean)",
    "DROP FUNCTION IF EXISTS registry_public_counts_rebuild(text)",
    "DROP FUNCTION IF EXISTS registry_public_counts_truncated()",
    "DROP FUNCTION IF EXISTS registry_public_counts_written()",
    f"DROP FUNCTION IF EXISTS registry_public_keys({KEYS_SIGNATURE})",
]


def kept(using=None):
    """Whether this database keeps the counts (PostgreSQL)."""
    return (using or connection).vendor == "postgresql"


def rebuild(time_zone=None):
    """Count every public project afresh (months in `time_zone`, the site's by default)."""
    if not kept():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT registry_public_counts_rebuild(%s)", [time_zone or settings.TIME_ZONE])


def settle():
    """Fold in what has become public since the counts were last settled; False if a writer
    was at work (nothing done) or the counts are not kept."""
    if not kept():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT registry_public_counts_settle(true)")
        return cursor.fetchone()[0]


@dataclass
class Counts:
    """The public projects of some scope, counted: {dimension: [(value, n), ...]}, each list
    by n, largest first, then value (in the database's collation); zero counts left out."""

    time_zone: str
    dimensions: dict = field(default_factory=dict)

    def get(self, dimension):
        return self.dimensions.get(dimension, [])

    def total(self, dimension="*"):
        return sum(n for _value, n in self.get(dimension))

    def as_dict(self, dimension, convert=str):
        return {convert(value): n for value, n in self.get(dimension)}


def read(scopes=("",), at=None):
    """The Counts of the projects public at `at` (now) in `scopes` (see scopes_for), or None
    when this database does not keep them. One query."""
    if not kept():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT dimension, value, n FROM registry_public_counts(%s, %s)",
            [list(scopes), at or timezone.now()],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    counts = Counts(time_zone="")
    for dimension, value, n in rows:
        if dimension == "#time_zone":
            counts.time_zone = value
        else:
            counts.dimensions.setdefault(dimension, []).append((value, n))
    return counts


def scopes_for(filterset):
    """The scopes whose counts are the counts of `filterset`'s projects: [''] with no filter,
    one scope per value of a single one-of filter (their counts add up), the scope of a single
    many-of value; None when the filters in use are anything else (several, a search, a city,
    founding years): those are counted afresh."""
    used = filterset.in_use()
    if not used:
        return [""]
    if len(used) > 1:
        return None
    ((name, value),) = used.items()
    if name == "track":
        return sorted({f"track:{track.pk}" for track in value})
    if name in ONE_OF_SCOPES:
        return sorted({f"{name}:{code}" for code in value})
    if name in MANY_OF_SCOPES and len(set(value)) == 1:
        return [f"{name}:{value[0]}"]
    return None
