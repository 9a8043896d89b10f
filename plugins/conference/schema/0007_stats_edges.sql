-- SPDX-License-Identifier: Apache-2.0
-- conference 0007: the figures' open edges computed with less sorting (issue #16).
--
-- With the closed days rolled up (0006), what is left of the operators' month over 10 million
-- visits is its open edges: today (not closed yet) and the range's partial first day, read
-- from the visits with a day of look-back each. 0006's statement took 2.8 s there (bench/
-- RESULTS.md), in three sorts of every such visit: distinct people per bucket
-- (count(DISTINCT)), every visit's two edges ordered per room to find when the room opens and
-- closes (spilled to disk), and the distinct people of the range. This version gives the same
-- answer with:
--   - a look-back as long as the roll-ups say it must be (lookback() below): where the day
--     before an island, or the island's own first day, is rolled up, its rooms' open spans
--     tell how early a visit that lasts into the island can have begun, and only from there
--     are the visits read, instead of from a whole day before;
--   - the look-back's visits kept only where they last into the island (the others were
--     read and carried through every step, to be dropped at each);
--   - the visits of the islands counted per school, bucket and person once (a hash
--     aggregate), from which the joins, the distinct people per bucket and those of the whole
--     range follow;
--   - each room's visits merged into the times it was open before the edges are ordered
--     (one sort of the visits by room and start, instead of one of twice as many edges);
--   - a visit's usage taken straight where it lies within one bucket, and split over
--     buckets only where it crosses an edge.
-- tests/integration/test_conference_rollup.py compares every figure with stats_raw().

-- The earliest time a visit of p_school that lasts past p_at can have begun, from the rolled-up
-- rooms' open spans (p_at - 1 day, a visit's longest, where the roll-ups cannot tell). Such a
-- visit lies inside its room's open span of each day it touches:
--   - p_at at midnight: the spans of the day before that reach midnight; none: nothing began
--     before p_at that lasts past it;
--   - p_at inside a day: the spans of that day around p_at; one that was carried into the day
--     began the day before, so there the bound is midnight's, as above.
-- Only from a current roll-up of p_typical (as stats() trusts a day).
CREATE FUNCTION lookback(p_school uuid, p_at timestamptz, p_typical interval)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = conference, pg_temp SET TimeZone = 'UTC' AS $$
    WITH day AS (
        SELECT date_bin('1 day', p_at, timestamptz '2000-01-01 00:00+00') AS d0
    ),
    rolled AS (
        SELECT r.day FROM conference.rollup_days r, day
         WHERE r.school_id = p_school AND r.day IN ((d0 - interval '1 day')::date, d0::date)
           AND NOT r.dirty AND r.typical = p_typical
    ),
    -- from midnight d0: the spans of the day before that reach it
    at_midnight AS (
        SELECT CASE WHEN EXISTS (SELECT 1 FROM rolled, day
                                  WHERE rolled.day = (d0 - interval '1 day')::date)
                    THEN coalesce((SELECT min(p.opened_at) FROM conference.rollup_spans p, day
                                    WHERE p.school_id = p_school
                                      AND p.day = (d0 - interval '1 day')::date
                                      AND p.closed_at = d0), (SELECT d0 FROM day))
                    ELSE (SELECT d0 - interval '1 day' FROM day) END AS t
    )
    SELECT greatest(p_at - interval '1 day',
                    CASE WHEN p_at = (SELECT d0 FROM day) THEN (SELECT t FROM at_midnight)
                         WHEN NOT EXISTS (SELECT 1 FROM rolled, day WHERE rolled.day = d0::date)
                         THEN p_at - interval '1 day'
                         ELSE coalesce((SELECT min(CASE WHEN p.carried
                                                        THEN (SELECT t FROM at_midnight)
                                                        ELSE p.opened_at END)
                                          FROM conference.rollup_spans p, day
                                         WHERE p.school_id = p_school AND p.day = d0::date
                                           AND p.opened_at < p_at AND p.closed_at > p_at),
                                       p_at) END);
$$;

CREATE OR REPLACE FUNCTION stats(p_all boolean, p_from timestamptz, p_to timestamptz,
                      p_step interval, p_typical interval)
RETURNS TABLE (bucket timestamptz, joins bigint, distinct_users bigint,
               usage_seconds double precision, estimated_seconds double precision,
               peak_rooms bigint, last_rooms bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = conference, pg_temp
SET TimeZone = 'UTC' SET work_mem = '64MB' SET jit = off AS $$
#variable_conflict use_column
DECLARE
    v_schools uuid[] := CASE WHEN NOT p_all THEN ARRAY[core.current_school()]
                             WHEN core.current_school() IS NULL
                             THEN ARRAY(SELECT id FROM core.schools)
                             ELSE '{}'::uuid[] END;
BEGIN
    IF p_step NOT IN (interval '1 hour', interval '1 day') OR p_typical > interval '1 day'
       OR EXISTS (SELECT 1 FROM conference.attendance a
                   WHERE a.school_id = ANY (v_schools)
                     AND a.left_at - a.joined_at > interval '24 hours'
                     AND a.joined_at >= p_from - interval '1 day' AND a.joined_at < p_to) THEN
        RETURN QUERY SELECT * FROM conference.stats_raw(p_all, p_from, p_to, p_step, p_typical);
        RETURN;
    END IF;
    RETURN QUERY
    WITH cells AS MATERIALIZED (
        SELECT sc.id AS school_id, d::date AS day, d AS t0,
               d >= p_from AND d + interval '1 day' <= p_to
               AND EXISTS (SELECT 1 FROM conference.rollup_days r
                            WHERE r.school_id = sc.id AND r.day = d::date AND NOT r.dirty
                              AND r.typical = p_typical) AS rolled
          FROM unnest(v_schools) AS sc(id)
         CROSS JOIN generate_series(date_bin('1 day', p_from, timestamptz '2000-01-01 00:00+00'),
                                    p_to - interval '1 microsecond', interval '1 day') AS d
         WHERE sc.id IS NOT NULL
    ),
    islands AS (
        SELECT school_id, greatest(min(t0), p_from) AS lo,
               least(max(t0) + interval '1 day', p_to) AS hi
          FROM (SELECT school_id, t0,
                       t0 - row_number() OVER (PARTITION BY school_id ORDER BY t0)
                            * interval '1 day' AS island
                  FROM cells WHERE NOT rolled) x
         GROUP BY school_id, island
    ),
    -- the islands' visits, and those from before each that last into it
    raw AS MATERIALIZED (
        SELECT * FROM (
            SELECT v.school_id, v.room_id, coalesce(v.user_id, v.guest_id) AS who,
                   v.joined_at AS s,
                   coalesce(v.left_at, greatest(v.joined_at,
                                                least(v.joined_at + p_typical, now()))) AS e,
                   v.left_at IS NULL AS estimated, i.lo, i.hi
              FROM (SELECT i.*, conference.lookback(i.school_id, i.lo, p_typical) AS lb
                      FROM islands i) i
              JOIN conference.attendance v
                ON v.school_id = i.school_id AND v.joined_at >= i.lb AND v.joined_at < i.hi) r
         WHERE r.s >= r.lo OR r.e > r.lo
    ),
    -- the islands' joins per school, bucket and person (who is NULL for a visit without one)
    raw_people AS MATERIALIZED (
        SELECT school_id, date_bin(p_step, s, timestamptz '2000-01-01 00:00+00') AS bucket,
               who, count(*) AS n
          FROM raw WHERE s >= lo GROUP BY 1, 2, 3
    ),
    -- the part of each visit inside its island, and the first and last bucket it touches
    raw_usage AS (
        SELECT greatest(s, lo) AS s, least(e, hi) AS e, estimated,
               date_bin(p_step, greatest(s, lo), timestamptz '2000-01-01 00:00+00') AS b0,
               date_bin(p_step, least(e, hi) - interval '1 microsecond',
                        timestamptz '2000-01-01 00:00+00') AS b1
          FROM raw WHERE least(e, hi) > greatest(s, lo)
    ),
    rolled_days AS (
        SELECT r.* FROM cells c JOIN conference.rollup_days r USING (school_id, day)
         WHERE c.rolled
    ),
    spans AS (
        SELECT p.* FROM cells c JOIN conference.rollup_spans p USING (school_id, day)
         WHERE c.rolled
    ),
    figures AS (
        SELECT bucket, sum(joins) AS joins, sum(users) AS users, sum(seconds) AS seconds,
               sum(estimated) AS estimated
          FROM (SELECT (r.day::timestamp AT TIME ZONE 'UTC') AS bucket, r.joins,
                       r.distinct_users AS users, r.usage_seconds AS seconds,
                       r.estimated_seconds AS estimated
                  FROM rolled_days r WHERE p_step = interval '1 day'
                UNION ALL
                SELECT h.hour, h.joins, h.distinct_users, h.usage_seconds, h.estimated_seconds
                  FROM cells c JOIN conference.rollup_hours h USING (school_id, day)
                 WHERE c.rolled AND p_step = interval '1 hour'
                UNION ALL
                SELECT bucket, sum(n), count(who), 0, 0
                  FROM raw_people GROUP BY school_id, bucket
                UNION ALL
                SELECT b0, 0, 0, extract(epoch FROM sum(e - s)),
                       coalesce(extract(epoch FROM sum(e - s) FILTER (WHERE estimated)), 0)
                  FROM raw_usage WHERE b0 = b1 GROUP BY 1
                UNION ALL
                SELECT b, 0, 0, sum(extract(epoch FROM least(v.e, b + p_step) - greatest(v.s, b))),
                       coalesce(sum(extract(epoch FROM least(v.e, b + p_step)
                                                       - greatest(v.s, b)))
                                    FILTER (WHERE v.estimated), 0)
                  FROM raw_usage v
                 CROSS JOIN LATERAL generate_series(v.b0, v.b1, p_step) AS b
                 WHERE v.b0 <> v.b1
                 GROUP BY 1) x
         GROUP BY bucket
    ),
    -- every room's open times inside the range, cut at the edges of days and islands (where
    -- a room stays open, its two pieces touch and count as one). A room open already before
    -- the range opens a microsecond before it, as in stats_raw(): counted as open at the start,
    -- but no event of the first bucket.
    raw_cut AS (
        SELECT school_id, room_id,
               CASE WHEN s < p_from THEN p_from - interval '1 microsecond'
                    ELSE greatest(s, lo) END AS s,
               least(e, hi) AS e
          FROM raw WHERE least(e, hi) > greatest(s, lo)
    ),
    -- each room's times open in the islands: a visit that starts after every earlier one of
    -- the room has ended opens it again (one that starts as another ends continues it)
    raw_open AS (
        SELECT school_id, room_id, s, e, count(*) FILTER (WHERE s > before) OVER w AS n
          FROM (SELECT school_id, room_id, s, e,
                       max(e) OVER (PARTITION BY room_id, school_id ORDER BY s, e
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
                  FROM raw_cut) c
        WINDOW w AS (PARTITION BY room_id, school_id ORDER BY s, e ROWS UNBOUNDED PRECEDING)
    ),
    intervals AS (
        SELECT school_id, room_id,
               CASE WHEN carried AND opened_at = p_from THEN p_from - interval '1 microsecond'
                    ELSE opened_at END AS s,
               closed_at AS e
          FROM spans
        UNION ALL
        SELECT school_id, room_id, min(s), max(e) FROM raw_open GROUP BY room_id, school_id, n
    ),
    edges AS (
        SELECT school_id, room_id, s AS t, 1 AS d FROM intervals
        UNION ALL
        SELECT school_id, room_id, e, -1 FROM intervals
    ),
    per_room AS (
        SELECT t, d, sum(d) OVER (PARTITION BY school_id, room_id ORDER BY t, d DESC
                                  ROWS UNBOUNDED PRECEDING) AS open_visits
          FROM edges
    ),
    room_edges AS (
        SELECT t, d FROM per_room
         WHERE (d = 1 AND open_visits = 1) OR (d = -1 AND open_visits = 0)
    ),
    open_rooms AS (
        SELECT t, sum(delta) OVER w AS rooms, sum(delta) OVER w - delta AS before,
               row_number() OVER w AS n
          FROM (SELECT t, d, sum(d) AS delta FROM room_edges GROUP BY t, d) AS x
        WINDOW w AS (ORDER BY t, d ROWS UNBOUNDED PRECEDING)
    ),
    peaks AS (
        SELECT date_bin(p_step, t, timestamptz '2000-01-01 00:00+00') AS bucket,
               max(greatest(rooms, before)) AS peak,
               (array_agg(rooms ORDER BY n DESC))[1] AS last
          FROM open_rooms WHERE t >= p_from AND t < p_to GROUP BY 1
    ),
    -- the people of the whole range: the rolled-up days' bits, and the islands' visits
    months AS (
        SELECT school_id, date_trunc('month', day)::date AS month,
               bit_or(1 << (extract(day FROM day)::integer - 1)) AS mask
          FROM cells WHERE rolled GROUP BY 1, 2
    ),
    people AS (
        SELECT p.who FROM months m JOIN conference.rollup_people p
            ON p.school_id = m.school_id AND p.month = m.month AND p.days & m.mask <> 0
        UNION
        SELECT who FROM raw_people WHERE who IS NOT NULL
    )
    SELECT g.bucket, coalesce(f.joins, 0)::bigint, coalesce(f.users, 0)::bigint,
           coalesce(f.seconds, 0)::double precision, coalesce(f.estimated, 0)::double precision,
           p.peak::bigint, p.last::bigint
      FROM generate_series(date_bin(p_step, p_from, timestamptz '2000-01-01 00:00+00'),
                           p_to - interval '1 microsecond', p_step) AS g(bucket)
      LEFT JOIN figures f USING (bucket) LEFT JOIN peaks p USING (bucket)
    UNION ALL
    SELECT NULL, (SELECT coalesce(sum(f.joins), 0) FROM figures f)::bigint,
           (SELECT count(*) FROM people), NULL, NULL, NULL,
           coalesce((SELECT rooms FROM open_rooms WHERE t < p_from ORDER BY n DESC LIMIT 1),
                    0)::bigint
    ORDER BY 1 NULLS LAST;
END
$$;
