"""The SQL generated from the filter vocabulary (registry/publicsql.py): counts.

Written by `manage.py makemigrations`. Frozen history: literal SQL, nothing imported from the
project; edit nothing here, change the declaration and run makemigrations again.
"""

from django.db import migrations

COUNTS_CREATE = [
    """
CREATE OR REPLACE FUNCTION registry_public_keys(
  published_at timestamptz,
  first_published_at timestamptz,
  verified boolean,
  track_id bigint,
  status text,
  status_since date,
  hq_country text,
  stage text,
  funding_stage text,
  team_size text,
  target_market text,
  hq_city text,
  business_models text,
  foundation_models text,
  customer_types text,
  modalities text,
  seeking text,
  tz text
)
RETURNS TABLE(scope text, dimension text, value text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.scope, k.dimension, k.value
  FROM unnest(
    ARRAY['',
          'track:' || track_id,
          'hq_country:' || hq_country,
          'stage:' || stage,
          'funding_stage:' || funding_stage,
          'team_size:' || team_size,
          'target_market:' || target_market,
          'status:' || status,
          'reviewed:' || CASE WHEN verified THEN '1' ELSE '0' END]
    || CASE WHEN business_models = '' THEN '{}'::text[] ELSE string_to_array('business_models:' || replace(trim(both ',' from business_models), ',', ',business_models:'), ',') END
    || CASE WHEN customer_types = '' THEN '{}'::text[] ELSE string_to_array('customer_types:' || replace(trim(both ',' from customer_types), ',', ',customer_types:'), ',') END
    || CASE WHEN foundation_models = '' THEN '{}'::text[] ELSE string_to_array('foundation_models:' || replace(trim(both ',' from foundation_models), ',', ',foundation_models:'), ',') END
    || CASE WHEN modalities = '' THEN '{}'::text[] ELSE string_to_array('modalities:' || replace(trim(both ',' from modalities), ',', ',modalities:'), ',') END
    || CASE WHEN seeking = '' THEN '{}'::text[] ELSE string_to_array('seeking:' || replace(trim(both ',' from seeking), ',', ',seeking:'), ',') END
  ) AS s(scope)
  CROSS JOIN unnest(
    ARRAY['*', 'track', 'hq_country', 'hq_city', 'stage', 'funding_stage', 'month', 'reviewed', 'survival']
    || array_fill('business_models'::text, ARRAY[cardinality(string_to_array(trim(both ',' from business_models), ','))])
    || array_fill('foundation_models'::text, ARRAY[cardinality(string_to_array(trim(both ',' from foundation_models), ','))]),
    ARRAY['', track_id::text, hq_country, hq_city, stage, funding_stage,
          to_char(coalesce(first_published_at, published_at) AT TIME ZONE tz, 'YYYY-MM'),
          CASE WHEN verified THEN '' END,
          to_char((coalesce(first_published_at, published_at) AT TIME ZONE tz), 'YYYY') || ':' || track_id::text || ':' || status || ':' || coalesce(CASE WHEN status = 'closed' AND status_since IS NOT NULL THEN ((extract(year FROM status_since) * 12 + extract(month FROM status_since)) - (extract(year FROM (coalesce(first_published_at, published_at) AT TIME ZONE tz)) * 12 + extract(month FROM (coalesce(first_published_at, published_at) AT TIME ZONE tz))) - CASE WHEN extract(day FROM (coalesce(first_published_at, published_at) AT TIME ZONE tz)) > extract(day FROM status_since) THEN 1 ELSE 0 END)::int::text END, '')]
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
    FROM new_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.status, p.status_since, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, -count(*)
    FROM old_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.status, p.status_since, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSE
    -- Only rows whose counted columns changed: the old version out, the new one in.
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, sum(w.sign)
    FROM (
      SELECT 1 AS sign, n.* FROM new_rows AS n
      WHERE NOT EXISTS (SELECT FROM old_rows AS o WHERE o.id = n.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.status IS DISTINCT FROM n.status OR o.status_since IS DISTINCT FROM n.status_since OR o.hq_country IS DISTINCT FROM n.hq_country OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.hq_city IS DISTINCT FROM n.hq_city OR o.business_models IS DISTINCT FROM n.business_models OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
      UNION ALL
      SELECT -1, o.* FROM old_rows AS o
      WHERE NOT EXISTS (SELECT FROM new_rows AS n WHERE n.id = o.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.status IS DISTINCT FROM n.status OR o.status_since IS DISTINCT FROM n.status_since OR o.hq_country IS DISTINCT FROM n.hq_country OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.hq_city IS DISTINCT FROM n.hq_city OR o.business_models IS DISTINCT FROM n.business_models OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
    ) AS w, registry_public_keys(w.published_at, w.first_published_at, w.verified, w.track_id, w.status, w.status_since, w.hq_country, w.stage, w.funding_stage, w.team_size, w.target_market, w.hq_city, w.business_models, w.foundation_models, w.customer_types, w.modalities, w.seeking, state.time_zone) AS k
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
  FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.status, p.status_since, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, tz) AS k
  WHERE p.published AND p.published_at <= upto
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  INSERT INTO registry_publiccountstate (id, counted_until, time_zone) VALUES (1, upto, tz);
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_settle(compact boolean) RETURNS boolean
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
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT k.scope, k.dimension, k.value, count(*)
  FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.status, p.status_since, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
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
""",
    """
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
  compact := (SELECT count(*) FROM registry_publiccount AS c WHERE c.scope = '') > 1000;
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
      FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.status, p.status_since, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
      WHERE (p.published AND p.published_at > state.counted_until AND p.published_at <= at
             OR p.published AND p.published_at > at AND p.published_at <= state.counted_until)
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
    'DROP TRIGGER IF EXISTS registry_public_counts_inserted ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_updated ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_deleted ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_truncated ON registry_project',
    'DROP FUNCTION IF EXISTS registry_public_counts(text[], timestamptz)',
    'DROP FUNCTION IF EXISTS registry_public_counts_settle(boolean)',
    'DROP FUNCTION IF EXISTS registry_public_counts_rebuild(text)',
    'DROP FUNCTION IF EXISTS registry_public_counts_truncated()',
    'DROP FUNCTION IF EXISTS registry_public_counts_written()',
    'DROP FUNCTION IF EXISTS registry_public_keys(timestamptz, timestamptz, boolean, bigint, text, date, text, text, text, text, text, text, text, text, text, text, text, text)',
]

# As the migrations before this one left it.
COUNTS_BEFORE_CREATE = [
    """
CREATE OR REPLACE FUNCTION registry_public_keys(
  published_at timestamptz,
  first_published_at timestamptz,
  verified boolean,
  track_id bigint,
  hq_country text,
  stage text,
  funding_stage text,
  team_size text,
  target_market text,
  status text,
  hq_city text,
  business_models text,
  foundation_models text,
  customer_types text,
  modalities text,
  seeking text,
  tz text
)
RETURNS TABLE(scope text, dimension text, value text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT s.scope, k.dimension, k.value
  FROM unnest(
    ARRAY['',
          'track:' || track_id,
          'hq_country:' || hq_country,
          'stage:' || stage,
          'funding_stage:' || funding_stage,
          'team_size:' || team_size,
          'target_market:' || target_market,
          'status:' || status,
          'reviewed:' || CASE WHEN verified THEN '1' ELSE '0' END]
    || CASE WHEN business_models = '' THEN '{}'::text[] ELSE string_to_array('business_models:' || replace(trim(both ',' from business_models), ',', ',business_models:'), ',') END
    || CASE WHEN customer_types = '' THEN '{}'::text[] ELSE string_to_array('customer_types:' || replace(trim(both ',' from customer_types), ',', ',customer_types:'), ',') END
    || CASE WHEN foundation_models = '' THEN '{}'::text[] ELSE string_to_array('foundation_models:' || replace(trim(both ',' from foundation_models), ',', ',foundation_models:'), ',') END
    || CASE WHEN modalities = '' THEN '{}'::text[] ELSE string_to_array('modalities:' || replace(trim(both ',' from modalities), ',', ',modalities:'), ',') END
    || CASE WHEN seeking = '' THEN '{}'::text[] ELSE string_to_array('seeking:' || replace(trim(both ',' from seeking), ',', ',seeking:'), ',') END
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
    FROM new_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, -count(*)
    FROM old_rows AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
    WHERE p.published AND p.published_at <= state.counted_until
    GROUP BY 1, 2, 3;
  ELSE
    -- Only rows whose counted columns changed: the old version out, the new one in.
    INSERT INTO registry_publiccount (scope, dimension, value, n)
    SELECT k.scope, k.dimension, k.value, sum(w.sign)
    FROM (
      SELECT 1 AS sign, n.* FROM new_rows AS n
      WHERE NOT EXISTS (SELECT FROM old_rows AS o WHERE o.id = n.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.hq_country IS DISTINCT FROM n.hq_country OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.status IS DISTINCT FROM n.status OR o.hq_city IS DISTINCT FROM n.hq_city OR o.business_models IS DISTINCT FROM n.business_models OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
      UNION ALL
      SELECT -1, o.* FROM old_rows AS o
      WHERE NOT EXISTS (SELECT FROM new_rows AS n WHERE n.id = o.id AND NOT (o.published IS DISTINCT FROM n.published OR o.published_at IS DISTINCT FROM n.published_at OR o.first_published_at IS DISTINCT FROM n.first_published_at OR o.verified IS DISTINCT FROM n.verified OR o.track_id IS DISTINCT FROM n.track_id OR o.hq_country IS DISTINCT FROM n.hq_country OR o.stage IS DISTINCT FROM n.stage OR o.funding_stage IS DISTINCT FROM n.funding_stage OR o.team_size IS DISTINCT FROM n.team_size OR o.target_market IS DISTINCT FROM n.target_market OR o.status IS DISTINCT FROM n.status OR o.hq_city IS DISTINCT FROM n.hq_city OR o.business_models IS DISTINCT FROM n.business_models OR o.foundation_models IS DISTINCT FROM n.foundation_models OR o.customer_types IS DISTINCT FROM n.customer_types OR o.modalities IS DISTINCT FROM n.modalities OR o.seeking IS DISTINCT FROM n.seeking))
    ) AS w, registry_public_keys(w.published_at, w.first_published_at, w.verified, w.track_id, w.hq_country, w.stage, w.funding_stage, w.team_size, w.target_market, w.status, w.hq_city, w.business_models, w.foundation_models, w.customer_types, w.modalities, w.seeking, state.time_zone) AS k
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
  FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, tz) AS k
  WHERE p.published AND p.published_at <= upto
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3;  -- each scope's rows together: a page reads a few table pages
  INSERT INTO registry_publiccountstate (id, counted_until, time_zone) VALUES (1, upto, tz);
END $$;
""",
    """
CREATE OR REPLACE FUNCTION registry_public_counts_settle(compact boolean) RETURNS boolean
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
  INSERT INTO registry_publiccount (scope, dimension, value, n)
  SELECT k.scope, k.dimension, k.value, count(*)
  FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
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
""",
    """
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
  compact := (SELECT count(*) FROM registry_publiccount AS c WHERE c.scope = '') > 1000;
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
      FROM registry_project AS p, registry_public_keys(p.published_at, p.first_published_at, p.verified, p.track_id, p.hq_country, p.stage, p.funding_stage, p.team_size, p.target_market, p.status, p.hq_city, p.business_models, p.foundation_models, p.customer_types, p.modalities, p.seeking, state.time_zone) AS k
      WHERE (p.published AND p.published_at > state.counted_until AND p.published_at <= at
             OR p.published AND p.published_at > at AND p.published_at <= state.counted_until)
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

COUNTS_BEFORE_DROP = [
    'DROP TRIGGER IF EXISTS registry_public_counts_inserted ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_updated ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_deleted ON registry_project',
    'DROP TRIGGER IF EXISTS registry_public_counts_truncated ON registry_project',
    'DROP FUNCTION IF EXISTS registry_public_counts(text[], timestamptz)',
    'DROP FUNCTION IF EXISTS registry_public_counts_settle(boolean)',
    'DROP FUNCTION IF EXISTS registry_public_counts_rebuild(text)',
    'DROP FUNCTION IF EXISTS registry_public_counts_truncated()',
    'DROP FUNCTION IF EXISTS registry_public_counts_written()',
    'DROP FUNCTION IF EXISTS registry_public_keys(timestamptz, timestamptz, boolean, bigint, text, text, text, text, text, text, text, text, text, text, text, text, text)',
]

REBUILD_IF_KEPT = """
DO $$
DECLARE
  tz text;
BEGIN
  SELECT time_zone INTO tz FROM registry_publiccountstate WHERE id = 1;
  IF FOUND THEN
    PERFORM registry_public_counts_rebuild(tz);
  END IF;
END $$;
"""


class PostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only: SQLite keeps no counts and has no covering indexes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("registry", "0018_public_sql")]

    # What this migration leaves in the database, read by the next makemigrations.
    public_sql = {
        "counts": {"create": COUNTS_CREATE, "drop": COUNTS_DROP},
    }

    operations = [
        PostgreSQL(
            sql=[
                *COUNTS_BEFORE_DROP,
                *COUNTS_CREATE,
                REBUILD_IF_KEPT,
            ],
            reverse_sql=[
                *COUNTS_DROP,
                *COUNTS_BEFORE_CREATE,
                REBUILD_IF_KEPT,
            ],
        ),
    ]
