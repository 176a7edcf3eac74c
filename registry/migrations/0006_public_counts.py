"""Counts of the public projects kept by PostgreSQL (registry/counts.py), and the index the
map's tiles are read from (registry/landscape.py).

On PostgreSQL: the counting functions and triggers, then every public project counted once;
and an index of the published projects by track and name, so each track's first tiles are
read from it without sorting the track. On SQLite only the (unused) tables are created: the
pages count afresh there.

Frozen history: the SQL below is the text registry/counts.py generated when this migration
was written (commit 5de2ad1); later versions come with later migrations.
"""

from django.conf import settings
from django.db import migrations, models

COUNTS_CREATE = [
    """
CREATE OR REPLACE FUNCTION registry_public_keys(
  published_at timestamptz, first_published_at timestamptz, verified boolean, track_id bigint, hq_country text, hq_city text, stage text, funding_stage text, team_size text, target_market text, status text, business_models text, customer_types text, foundation_models text, modalities text, seeking text, tz text
)
RETURNS TABLE(scope text, dimension text, value text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.scope, k.dimension, k.value
  FROM unnest(
    ARRAY['', 'track:' || track_id, 'stage:' || stage, 'funding_stage:' || funding_stage,
          'team_size:' || team_size, 'target_market:' || target_market, 'status:' || status,
          'hq_country:' || hq_country]
    || ARRAY(SELECT 'business_models:' || c FROM unnest(string_to_array(trim(both ',' from business_models), ',')) AS c) || ARRAY(SELECT 'customer_types:' || c FROM unnest(string_to_array(trim(both ',' from customer_types), ',')) AS c) || ARRAY(SELECT 'foundation_models:' || c FROM unnest(string_to_array(trim(both ',' from foundation_models), ',')) AS c) || ARRAY(SELECT 'modalities:' || c FROM unnest(string_to_array(trim(both ',' from modalities), ',')) AS c) || ARRAY(SELECT 'seeking:' || c FROM unnest(string_to_array(trim(both ',' from seeking), ',')) AS c)
  ) AS s(scope)
  CROSS JOIN unnest(
    ARRAY['*', 'track', 'hq_country', 'hq_city', 'stage', 'funding_stage', 'month', 'reviewed']
    || array_fill('business_models'::text, ARRAY[cardinality(string_to_array(trim(both ',' from business_models), ','))])
    || array_fill('foundation_models'::text, ARRAY[cardinality(string_to_array(trim(both ',' from foundation_models), ','))]),
    ARRAY['', track_id::text, hq_country, hq_city, stage, funding_stage,
          to_char(coalesce(first_published_at, published_at) AT TIME ZONE tz, 'YYYY-MM'),
          CASE WHEN verified THEN '' END]
    || string_to_array(trim(both ',' from business_models), ',')
    || string_to_array(trim(both ',' from foundation_models), ',')
  ) AS k(dimension, value)
  WHERE k.value IS NOT NULL
$$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  state record;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7262011);
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN NULL;  -- the counts are not kept (never built, or forgotten by a TRUNCATE)
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, count(*)
    FROM new_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.hq_city, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.business_models, p.customer_types, p.foundation_models, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, -count(*)
    FROM old_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.hq_city, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.business_models, p.customer_types, p.foundation_models, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSE
    -- Only rows whose counted columns changed: the old version out, the new one in.
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, sum(w.sign)
    FROM (
      SELECT 1 AS sign, n.* FROM new_rows AS n
      WHERE NOT EXISTS (SELECT FROM old_rows AS o WHERE o.id = n.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.hq_country IS DISTINCT FROM n.hq_country OR o.hq_city IS DISTINCT FROM n.hq_city OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.status IS DISTINCT FROM n.status OR o.business_models IS DISTINCT FROM n.business_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
      UNION ALL
      SELECT -1, o.* FROM old_rows AS o
      WHERE NOT EXISTS (SELECT FROM new_rows AS n WHERE n.id = o.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.hq_country IS DISTINCT FROM n.hq_country OR o.hq_city IS DISTINCT FROM n.hq_city OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.status IS DISTINCT FROM n.status OR o.business_models IS DISTINCT FROM n.business_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
    ) AS w, registry_public_keys(w.published_at, w.first_published_at, w.verified, w.track_id, w.hq_country, w.hq_city, w.stage, w.funding_stage, w.team_size, w.target_market, w.status, w.business_models, w.customer_types, w.foundation_models, w.modalities, w.seeking, state.time_zone) AS k
    WHERE w.published AND w.published_at <= state.counted_until
    GROUP BY 1, 2, 3
    HAVING sum(w.sign) <> 0;
  END IF;
  RETURN NULL;
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7262011);
  DELETE FROM registry_publiccount;
  DELETE FROM registry_publiccountstate;
  RETURN NULL;
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_rebuild(tz text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  upto timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7262011);
  upto := clock_timestamp();
  DELETE FROM registry_publiccount;
  DELETE FROM registry_publiccountstate;
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT k.scope, k.dimension, k.value, count(*)
  FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.hq_city, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.business_models, p.customer_types, p.foundation_models, p.modalities, p.seeking, tz) AS k
  WHERE p.published AND p.published_at <= upto
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  INSERT INTO registry_publiccountstate (id, counted_until, time_zone) VALUES (1, upto, tz);
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_settle() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  state record;
  upto timestamptz;
BEGIN
  IF NOT pg_try_advisory_xact_lock(7262011) THEN
    RETURN false;
  END IF;
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  upto := greatest(state.counted_until, clock_timestamp());
  WITH gone AS (DELETE FROM registry_publiccount RETURNING scope, dimension, value, n)
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT c.scope, c.dimension, c.value, sum(c.n)
  FROM (
    SELECT g.scope, g.dimension, g.value, g.n FROM gone AS g
    UNION ALL
    SELECT k.scope, k.dimension, k.value, 1
    FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.hq_city, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.business_models, p.customer_types, p.foundation_models, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at > state.counted_until AND p.published_at <= upto
  ) AS c
  GROUP BY 1, 2, 3
  HAVING sum(c.n) <> 0
  ORDER BY 1, 2, 3;
  UPDATE registry_publiccountstate SET counted_until = upto WHERE id = 1;
  RETURN true;
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts(scopes text[], at timestamptz)
RETURNS TABLE(dimension text, value text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
  state record;
  due timestamptz := least(at, clock_timestamp());  -- a value, so both bounds use the index
BEGIN
  SELECT * INTO state FROM registry_publiccountstate WHERE id = 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF EXISTS (
       SELECT FROM registry_project AS p
       WHERE p.published AND p.published_at > state.counted_until AND p.published_at <= due)
     OR (SELECT count(*) - count(DISTINCT (c.dimension, c.value))
         FROM registry_publiccount AS c WHERE c.scope = '') > 2000 THEN
    IF registry_public_counts_settle() THEN
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
      FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.hq_city, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.business_models, p.customer_types, p.foundation_models, p.modalities, p.seeking, state.time_zone) AS k
      WHERE p.published
        AND (p.published_at > state.counted_until AND p.published_at <= at
             OR p.published_at > at AND p.published_at <= state.counted_until)
        AND k.scope = ANY(scopes)
    ) AS c
    GROUP BY 1, 2
    HAVING sum(c.n) <> 0
    ORDER BY 1, 3 DESC, 2;
END $$;
""",
    """
CREATE TRIGGER registry_public_counts_inserted AFTER INSERT ON registry_project
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_updated AFTER UPDATE ON registry_project
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_deleted AFTER DELETE ON registry_project
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_written();
CREATE TRIGGER registry_public_counts_truncated AFTER TRUNCATE ON registry_project
  FOR EACH STATEMENT EXECUTE FUNCTION registry_public_counts_truncated();
""",
]

COUNTS_DROP = [
    "DROP TRIGGER IF EXISTS registry_public_counts_inserted ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_updated ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_deleted ON registry_project",
    "DROP TRIGGER IF EXISTS registry_public_counts_truncated ON registry_project",
    "DROP FUNCTION IF EXISTS registry_public_counts(text[], timestamptz)",
    "DROP FUNCTION IF EXISTS registry_public_counts_settle()",
    "DROP FUNCTION IF EXISTS registry_public_counts_rebuild(text)",
    "DROP FUNCTION IF EXISTS registry_public_counts_truncated()",
    "DROP FUNCTION IF EXISTS registry_public_counts_written()",
    "DROP FUNCTION IF EXISTS registry_public_keys(timestamptz, timestamptz, boolean, bigint, text, text, text, text, text, text, text, text, text, text, text, text, text)",
]

REBUILD = "SELECT registry_public_counts_rebuild(%s)"
TILE_INDEX_CREATE = (
    "CREATE INDEX IF NOT EXISTS registry_project_tile_idx ON registry_project (track_id, name, id) WHERE published"
)
TILE_INDEX_DROP = "DROP INDEX IF EXISTS registry_project_tile_idx"


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite keeps no counts (its pages count afresh) and has no
    partial covering indexes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_public_order_indexes")]

    # What this migration leaves in the database, read by `manage.py makemigrations`
    # (registry/publicsql.py) to write the next change of the generated SQL.
    public_sql = {
        "counts": {"create": COUNTS_CREATE, "drop": COUNTS_DROP},
        "tile_index": {"create": [TILE_INDEX_CREATE], "drop": [TILE_INDEX_DROP]},
    }

    operations = [
        migrations.CreateModel(
            name="PublicCountState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("counted_until", models.DateTimeField()),
                ("time_zone", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="PublicCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=64)),
                ("dimension", models.CharField(max_length=20)),
                ("value", models.CharField(blank=True, max_length=100)),
                ("n", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["scope"], name="registry_publiccount_scope")],
            },
        ),
        PostgreSQL(
            sql=[*COUNTS_CREATE, (REBUILD, [settings.TIME_ZONE]), TILE_INDEX_CREATE],
            reverse_sql=[TILE_INDEX_DROP, *COUNTS_DROP],
        ),
    ]
