-- SPDX-License-Identifier: Apache-2.0
-- conference 0002: the usage figures, computed from the attendance rows of a time range.
--
-- One row per bucket (p_step: '1 hour' or '1 day', buckets aligned to UTC) from p_from to
-- p_to, and a last row with bucket NULL for the whole range. A visit lasts from joined_at to
-- left_at; where left_at is unknown it is assumed to last p_typical (capped at now), and that
-- share is also reported apart (estimated_seconds). Visits are counted up to one day back
-- from p_from. Concurrent rooms: a room is open while at least one visit of it is; the
-- answer gives, per bucket, the highest number of open rooms at any event inside it
-- (peak_rooms, NULL when nothing happened in it) and the number open after its last event
-- (last_rooms), so the caller carries the count through buckets without events. The total
-- row's last_rooms is the number open at p_from.
--
-- SECURITY DEFINER so the time-range index is used under row-level security; it applies the
-- school itself: the transaction's school, or, with p_all, every school, but only from a
-- transaction that has no school (the operator-wide route).
CREATE FUNCTION stats(p_all boolean, p_from timestamptz, p_to timestamptz, p_step interval,
                      p_typical interval)
RETURNS TABLE (bucket timestamptz, joins bigint, distinct_users bigint,
               usage_seconds double precision, estimated_seconds double precision,
               peak_rooms bigint, last_rooms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = conference, pg_temp AS $$
WITH visits AS MATERIALIZED (
    SELECT v.school_id, v.room_id, coalesce(v.user_id, v.guest_id) AS who, v.joined_at AS s,
           coalesce(v.left_at, greatest(v.joined_at, least(v.joined_at + p_typical, now()))) AS e,
           v.left_at IS NULL AS estimated
      FROM conference.attendance v
     WHERE v.school_id = ANY (CASE WHEN NOT p_all THEN ARRAY[core.current_school()]
                                   WHEN core.current_school() IS NULL
                                   THEN ARRAY(SELECT id FROM core.schools)
                                   ELSE '{}'::uuid[] END)
       AND v.joined_at >= p_from - interval '1 day' AND v.joined_at < p_to
),
edges AS (
    SELECT school_id, room_id, s AS t, 1 AS d FROM visits WHERE e > s AND e > p_from
    UNION ALL
    SELECT school_id, room_id, e, -1 FROM visits WHERE e > s AND e > p_from
),
per_room AS (
    SELECT t, d, sum(d) OVER (PARTITION BY school_id, room_id ORDER BY t, d DESC
                              ROWS UNBOUNDED PRECEDING) AS open_visits
      FROM edges
),
room_edges AS (
    SELECT t, d FROM per_room WHERE (d = 1 AND open_visits = 1) OR (d = -1 AND open_visits = 0)
),
open_rooms AS (
    SELECT t, sum(delta) OVER w AS rooms, sum(delta) OVER w - delta AS before,
           row_number() OVER w AS n
      FROM (SELECT t, d, sum(d) AS delta FROM room_edges GROUP BY t, d) AS x
    WINDOW w AS (ORDER BY t, d ROWS UNBOUNDED PRECEDING)
),
peaks AS (
    SELECT date_bin(p_step, t, timestamptz '2000-01-01 00:00+00') AS bucket,
           max(greatest(rooms, before)) AS peak, (array_agg(rooms ORDER BY n DESC))[1] AS last
      FROM open_rooms WHERE t >= p_from AND t < p_to GROUP BY 1
),
joined AS (
    SELECT date_bin(p_step, s, timestamptz '2000-01-01 00:00+00') AS bucket, count(*) AS joins,
           count(DISTINCT who) AS distinct_users
      FROM visits WHERE s >= p_from GROUP BY 1
),
usage AS (
    SELECT b AS bucket,
           sum(extract(epoch FROM least(v.e, b + p_step, p_to) - greatest(v.s, b, p_from)))
               AS seconds,
           sum(extract(epoch FROM least(v.e, b + p_step, p_to) - greatest(v.s, b, p_from)))
               FILTER (WHERE v.estimated) AS estimated
      FROM visits v
     CROSS JOIN LATERAL generate_series(
               date_bin(p_step, greatest(v.s, p_from), timestamptz '2000-01-01 00:00+00'),
               least(v.e, p_to), p_step) AS b
     WHERE v.e > p_from AND v.e > v.s AND b < least(v.e, p_to)
     GROUP BY 1
)
SELECT g.bucket, coalesce(j.joins, 0), coalesce(j.distinct_users, 0),
       coalesce(u.seconds, 0)::double precision, coalesce(u.estimated, 0)::double precision,
       p.peak, p.last
  FROM generate_series(date_bin(p_step, p_from, timestamptz '2000-01-01 00:00+00'),
                       p_to - interval '1 microsecond', p_step) AS g(bucket)
  LEFT JOIN joined j USING (bucket) LEFT JOIN usage u USING (bucket)
  LEFT JOIN peaks p USING (bucket)
UNION ALL
SELECT NULL, count(*), count(DISTINCT who), NULL, NULL, NULL,
       coalesce((SELECT rooms FROM open_rooms WHERE t < p_from ORDER BY n DESC LIMIT 1), 0)
  FROM visits WHERE s >= p_from
ORDER BY 1 NULLS LAST
$$;
