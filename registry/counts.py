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

from registry.filters import MANY_OF, ONE_OF, ProjectFilterSet
from registry.models import Project, became_public_sql, public_sql

LOCK = 7_262_011  # the advisory lock of the counts (any number no other code uses)

# Counted whatever the filters: '*' (the projects), 'month' (of the first publication, for
# /stats/) and 'reviewed' (the headline number), from these columns.
HEADLINE_COLUMNS = ("published_at", "first_published_at", "verified")
SQL_TYPES = {"ForeignKey": "bigint", "BooleanField": "boolean", "DateTimeField": "timestamptz"}


def one_of_scopes():
    """{filter name: column} of the filters a scope can stand for with one or more values."""
    return {name: filter_.column for name, filter_ in ProjectFilterSet.scoped(ONE_OF).items()}


def many_of_scopes():
    """{filter name: column} of the many-of filters a scope can stand for with one value."""
    return {name: filter_.column for name, filter_ in ProjectFilterSet.scoped(MANY_OF).items()}


def dimensions():
    """{dimension: column} of what is counted per value (the charted filters' columns)."""
    return {name: filter_.column for name, filter_ in ProjectFilterSet.charted().items()}


def key_columns():
    """{column: SQL type} of the columns the keys are made of (the keys function's arguments)."""
    columns = [
        *HEADLINE_COLUMNS,
        *one_of_scopes().values(),
        *dimensions().values(),
        *many_of_scopes().values(),
    ]
    by_column = {field.column: field for field in Project._meta.concrete_fields}
    return {
        column: SQL_TYPES.get(by_column[column].get_internal_type(), "text")
        for column in dict.fromkeys(columns)
    }


def counted_columns():
    """The columns whose change changes a count (an update touching none of them adds no pieces)."""
    return ["published", *key_columns()]


def _codes(column):
    return f"string_to_array(trim(both ',' from {column}), ',')"


def _scoped_codes(name, column):
    """['name:code', ...] of a many-of column, by string functions alone (a subquery per row
    made counting 100,000 projects four times slower)."""
    return (
        f"CASE WHEN {column} = '' THEN '{{}}'::text[] ELSE "
        f"string_to_array('{name}:' || replace(trim(both ',' from {column}), ',', ',{name}:'), ',') END"
    )


def _keys_of(alias, time_zone):
    """The call of the keys function for the row `alias`."""
    return f"registry_public_keys({', '.join(f'{alias}.{column}' for column in key_columns())}, {time_zone})"


def keys_function():
    """(scope, dimension, value) of every count a project is in: every scope it belongs to,
    times every dimension value it has. One definition for the triggers, the rebuild and
    the reads, so they cannot disagree."""
    one_of = ",\n          ".join(
        f"'{name}:' || {filter_.value_sql}" for name, filter_ in ProjectFilterSet.scoped(ONE_OF).items()
    )
    many_of = "\n    || ".join(_scoped_codes(name, column) for name, column in many_of_scopes().items())
    charted = dimensions()
    single = {name: column for name, column in charted.items() if name not in many_of_scopes()}
    several = {name: column for name, column in charted.items() if name in many_of_scopes()}
    text = {column: f"{column}::text" if kind != "text" else column for column, kind in key_columns().items()}
    return f"""
CREATE OR REPLACE FUNCTION registry_public_keys(
  {",\n  ".join(f"{column} {kind}" for column, kind in key_columns().items())},
  tz text
)
RETURNS TABLE(scope text, dimension text, value text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.scope, k.dimension, k.value
  FROM unnest(
    ARRAY['',
          {one_of}]{
        f'''
    || {many_of}'''
        if many_of
        else ""
    }
  ) AS s(scope)
  CROSS JOIN unnest(
    ARRAY['*', {", ".join(f"'{name}'" for name in single)}, 'month', 'reviewed']{
        "".join(
            f"\n    || array_fill('{name}'::text, ARRAY[cardinality({_codes(column)})])"
            for name, column in several.items()
        )
    },
    ARRAY['', {", ".join(text[column] for column in single.values())},
          to_char(coalesce(first_published_at, published_at) AT TIME ZONE tz, 'YYYY-MM'),
          CASE WHEN verified THEN '' END]{
        "".join(f"\n    || {_codes(column)}" for column in several.values())
    }
  ) AS k(dimension, value)
  WHERE k.value IS NOT NULL
$$;
"""


def _changed():
    return " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in counted_columns())


def trigger_function():
    counted = public_sql("p", "state.counted_until")
    keys = _keys_of("p", "state.time_zone")
    return f"""
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
    FROM new_rows AS p, {keys} AS k
    WHERE {counted}
    GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, -count(*)
    FROM old_rows AS p, {keys} AS k
    WHERE {counted}
    GROUP BY 1, 2, 3;
  ELSE
    -- Only rows whose counted columns changed: the old version out, the new one in.
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, sum(w.sign)
    FROM (
      SELECT 1 AS sign, n.* FROM new_rows AS n
      WHERE NOT EXISTS (SELECT FROM old_rows AS o WHERE o.id = n.id AND NOT ({_changed()}))
      UNION ALL
      SELECT -1, o.* FROM old_rows AS o
      WHERE NOT EXISTS (SELECT FROM new_rows AS n WHERE n.id = o.id AND NOT ({_changed()}))
    ) AS w, {_keys_of("w", "state.time_zone")} AS k
    WHERE {public_sql("w", "state.counted_until")}
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


def rebuild_function():
    """Recount everything (the migrations, seed_demo, `manage.py recount_public`)."""
    return f"""
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
  FROM registry_project AS p, {_keys_of("p", "tz")} AS k
  WHERE {public_sql("p", "upto")}
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  INSERT INTO registry_publiccountstate (id, counted_until, time_zone) VALUES (1, upto, tz);
END $$;
"""


def settle_function():
    """Fold in the projects whose publication time has come since counted_until (their pieces
    added), and with `compact`, sum all the pieces into one per count. Never waits: if a
    writer is at work, it is left for later."""
    return f"""
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
  FROM registry_project AS p, {_keys_of("p", "state.time_zone")} AS k
  WHERE {became_public_sql("p", "state.counted_until", "upto")}
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
# the months' time zone, 0). Nothing at all when the counts are not kept. Settles first when
# that is worth it: projects have become public since counted_until, or the pieces of the
# unfiltered scope pile up (more than SETTLE_PIECES; about 100 once compacted). A plain count
# of them: counting the distinct (dimension, value) pairs cost 3-4 ms on every read.
SETTLE_PIECES = 1000


def read_function():
    return f"""
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
       WHERE {became_public_sql("p", "state.counted_until", "due")}) THEN
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
      FROM registry_project AS p, {_keys_of("p", "state.time_zone")} AS k
      WHERE ({became_public_sql("p", "state.counted_until", "at")}
             OR {became_public_sql("p", "at", "state.counted_until")})
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


def install_sql():
    """The statements that create the counting functions and triggers (registry.publicsql
    writes them into migrations)."""
    return [
        keys_function(),
        trigger_function(),
        TRUNCATE_FUNCTION,
        rebuild_function(),
        settle_function(),
        read_function(),
        TRIGGERS,
    ]


def uninstall_sql():
    """The statements that drop what install_sql() creates, by its signatures."""
    return [
        "DROP TRIGGER IF EXISTS registry_public_counts_inserted ON registry_project",
        "DROP TRIGGER IF EXISTS registry_public_counts_updated ON registry_project",
        "DROP TRIGGER IF EXISTS registry_public_counts_deleted ON registry_project",
        "DROP TRIGGER IF EXISTS registry_public_counts_truncated ON registry_project",
        "DROP FUNCTION IF EXISTS registry_public_counts(text[], timestamptz)",
        "DROP FUNCTION IF EXISTS registry_public_counts_settle(boolean)",
        "DROP FUNCTION IF EXISTS registry_public_counts_rebuild(text)",
        "DROP FUNCTION IF EXISTS registry_public_counts_truncated()",
        "DROP FUNCTION IF EXISTS registry_public_counts_written()",
        f"DROP FUNCTION IF EXISTS registry_public_keys({', '.join([*key_columns().values(), 'text'])})",
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
    filter_ = filterset.filters[name]
    kind = getattr(filter_, "kind", None)  # the search is no scope
    if kind not in (ONE_OF, MANY_OF):
        return None
    codes = set(filter_.scope_codes(value))
    if kind == ONE_OF or len(codes) == 1:
        return sorted(f"{name}:{code}" for code in codes)
    return None
