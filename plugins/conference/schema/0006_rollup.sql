-- SPDX-License-Identifier: Apache-2.0
-- conference 0006: the figures of closed days from daily roll-ups (issue #16).
--
-- conference.stats() read every visit of its range: the operators' month over 10 million
-- visits took two minutes and gigabytes of temporary files. Now a timer (rollup.c) rolls up
-- each school's closed UTC days, and stats() reads those and only the rest (the partial days
-- at the edges of the range, days not closed or not rolled up yet) from the visits.
--
-- A cell is one school's day. What the figures of a day need, and what is kept of it:
--   rollup_days    the day's joins, distinct people, usage and estimated seconds, and whether
--                  the cell is current (dirty: a visit of the day changed since);
--   rollup_hours   the same per hour (hourly buckets);
--   rollup_spans   per room, the times it was open within the day (visits of a room merged,
--                  cut at midnight): the number of open rooms at any moment is counted from
--                  these as from the visits, for any set of schools and any bucket;
--   rollup_people  per school, month and person, a bit per day of the month on which they
--                  joined: the distinct people of a range are the rows whose bits meet the
--                  range's days, which per-day counts cannot give.
-- Usage seconds are numeric, as the sum over the visits is: the roll-up's sums add up to the
-- very same number the visits give.
--
-- Exactness rests on three rules, each enforced here:
--   - a day is rolled up once it is closed: it ended more than max(typical, 12 hours) + 1 hour
--     ago (12 hours: a leave or an end closes visits of the last 12 hours, join.c), so no
--     estimate is capped at now any more;
--   - any change to a visit that began more than 12 hours ago (a late leave, a deleted user's
--     visits losing the person, rows written by hand) marks its day and the next dirty, by
--     trigger, in the writing transaction; the roll-up does them again and stats() reads them
--     from the visits until then. Writer and roll-up meet on the rollup_days row (its lock), so
--     a change is either seen by the roll-up or marks the day after it;
--   - a visit lasts at most a day (leaves close visits of the last 12 hours; an estimate is
--     typical_minutes, at most 1440): a range with a longer visit, or a typical length over a
--     day, is computed from the visits alone (stats_raw, the function of 0002).

CREATE TABLE rollup_days (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    day         date NOT NULL,
    dirty       boolean NOT NULL DEFAULT true,
    typical     interval,             -- the typical visit length of the roll-up; NULL: never
    rolled_at   timestamptz,
    joins       bigint NOT NULL DEFAULT 0,
    distinct_users bigint NOT NULL DEFAULT 0,
    usage_seconds numeric NOT NULL DEFAULT 0,
    estimated_seconds numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, day)
);
CREATE INDEX rollup_days_todo ON rollup_days (school_id, day) WHERE dirty;

CREATE TABLE rollup_hours (
    school_id   uuid NOT NULL,
    day         date NOT NULL,
    hour        timestamptz NOT NULL,
    joins       bigint NOT NULL,
    distinct_users bigint NOT NULL,
    usage_seconds numeric NOT NULL,
    estimated_seconds numeric NOT NULL,
    PRIMARY KEY (school_id, day, hour),
    FOREIGN KEY (school_id, day) REFERENCES rollup_days (school_id, day) ON DELETE CASCADE
);

-- carried: the room was open just before the day began (a visit from the day before that
-- lasted into it), what the figures of a range that starts at midnight report as open then.
CREATE TABLE rollup_spans (
    school_id   uuid NOT NULL,
    day         date NOT NULL,
    room_id     uuid NOT NULL,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz NOT NULL,
    carried     boolean NOT NULL,
    PRIMARY KEY (school_id, day, room_id, opened_at),
    FOREIGN KEY (school_id, day) REFERENCES rollup_days (school_id, day) ON DELETE CASCADE,
    CHECK (closed_at > opened_at)
);

-- who: user_id, or guest_id for a guest (as the figures count them); bit n of days: day n + 1
-- of the month.
CREATE TABLE rollup_people (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    who         uuid NOT NULL,
    days        integer NOT NULL,
    PRIMARY KEY (school_id, month, who)
);

ALTER TABLE rollup_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_days FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rollup_days
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE rollup_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_hours FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rollup_hours
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE rollup_spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_spans FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rollup_spans
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE rollup_people ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_people FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rollup_people
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Visits longer than a day are rare (hand-written rows, or a leave that came very late); stats()
-- looks for one in its range before it trusts the roll-ups.
CREATE INDEX attendance_long ON attendance (school_id, joined_at)
    WHERE left_at - joined_at > interval '24 hours';

-- ---- marking changed days --------------------------------------------------------------------

-- The day a visit began and the next (a visit lasts at most a day). The upsert locks the row
-- also where it changes nothing (ON CONFLICT DO UPDATE locks every row it meets), so a roll-up
-- of the day waits for this transaction, or this one for the roll-up, and then marks it. A
-- school being deleted takes its roll-ups along: nothing to mark then.
CREATE FUNCTION rollup_mark(p_school uuid, p_joined timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = conference, pg_temp SET TimeZone = 'UTC' AS $$
    INSERT INTO conference.rollup_days AS r (school_id, day)
    SELECT p_school, d
      FROM (VALUES (p_joined::date), (p_joined::date + 1)) AS v(d)
     WHERE EXISTS (SELECT 1 FROM core.schools WHERE id = p_school)
     ORDER BY d
        ON CONFLICT (school_id, day) DO UPDATE SET dirty = true WHERE NOT r.dirty
$$;

CREATE FUNCTION rollup_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = conference, pg_temp AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM conference.rollup_mark(OLD.school_id, OLD.joined_at);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.joined_at <> OLD.joined_at
                              OR NEW.school_id <> OLD.school_id) THEN
        PERFORM conference.rollup_mark(NEW.school_id, NEW.joined_at);
    END IF;
    RETURN NULL;
END
$$;

-- Only rows of visits that began more than 12 hours ago can belong to a rolled-up day (a day
-- is rolled up 13 hours after its end at the earliest): a join or a leave of today costs the
-- WHEN clause alone. (clock_timestamp, not now: a transaction that began long before still
-- marks what it writes now.)
CREATE TRIGGER rollup_insert AFTER INSERT ON attendance FOR EACH ROW
    WHEN (NEW.joined_at < clock_timestamp() - interval '12 hours')
    EXECUTE FUNCTION rollup_changed();
CREATE TRIGGER rollup_update AFTER UPDATE ON attendance FOR EACH ROW
    WHEN (OLD.joined_at < clock_timestamp() - interval '12 hours'
          OR NEW.joined_at < clock_timestamp() - interval '12 hours')
    EXECUTE FUNCTION rollup_changed();
CREATE TRIGGER rollup_delete AFTER DELETE ON attendance FOR EACH ROW
    WHEN (OLD.joined_at < clock_timestamp() - interval '12 hours')
    EXECUTE FUNCTION rollup_changed();

-- ---- rolling up ------------------------------------------------------------------------------

-- Rolls up at most p_max_days cells (school days), oldest first, with p_typical as the assumed
-- length of a visit whose leave is unknown; returns how many. The cells: days rolled up before
-- that are dirty or were rolled up with another typical length, and each school's closed days
-- after the last it has rolled up, from the day of its first visit on (catch-up after
-- downtime: each run takes the next batch). Idempotent; one run at a time (an advisory lock:
-- a second one returns 0 at once). Outside any school only (the timer, the command).
CREATE FUNCTION rollup(p_typical interval, p_max_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = conference, pg_temp SET TimeZone = 'UTC'
SET work_mem = '64MB' AS $$
DECLARE
    v_last date := (now() - greatest(p_typical, interval '12 hours') - interval '1 hour')::date - 1;
    v_n integer;
BEGIN
    IF core.current_school() IS NOT NULL THEN
        RAISE EXCEPTION 'conference.rollup() runs outside any school';
    END IF;
    IF p_typical IS NULL OR p_typical <= interval '0' OR p_max_days IS NULL OR p_max_days < 1 THEN
        RAISE EXCEPTION 'conference.rollup(): a positive typical length and batch size';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('conference.rollup')) THEN
        RETURN 0;
    END IF;

    CREATE TEMP TABLE rollup_cells ON COMMIT DROP AS
    SELECT school_id, day, day::timestamp AT TIME ZONE 'UTC' AS t0
      FROM (SELECT r.school_id, r.day FROM conference.rollup_days r
             WHERE r.typical IS NOT NULL AND (r.dirty OR r.typical <> p_typical)
               AND r.day <= v_last
            UNION
            SELECT s.id, d::date
              FROM core.schools s
             CROSS JOIN LATERAL (
                   SELECT coalesce((SELECT max(r.day) + 1 FROM conference.rollup_days r
                                     WHERE r.school_id = s.id AND r.typical IS NOT NULL),
                                   (SELECT min(a.joined_at)::date FROM conference.attendance a
                                     WHERE a.school_id = s.id)) AS first) f
             CROSS JOIN LATERAL generate_series(f.first, v_last, interval '1 day') AS d
             WHERE f.first <= v_last) c
     ORDER BY day, school_id
     LIMIT p_max_days;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        DROP TABLE rollup_cells;
        RETURN 0;
    END IF;

    -- Claim the cells: their rows stay locked until commit, so a visit changed from now on
    -- marks its day dirty after this roll-up (rollup_mark waits); the visits read below are
    -- those committed by now.
    INSERT INTO conference.rollup_days AS r (school_id, day)
    SELECT school_id, day FROM rollup_cells ORDER BY school_id, day
        ON CONFLICT (school_id, day) DO UPDATE SET dirty = true;

    DELETE FROM conference.rollup_hours h USING rollup_cells c
     WHERE h.school_id = c.school_id AND h.day = c.day;
    DELETE FROM conference.rollup_spans p USING rollup_cells c
     WHERE p.school_id = c.school_id AND p.day = c.day;
    CREATE TEMP TABLE rollup_months ON COMMIT DROP AS
    SELECT school_id, date_trunc('month', day)::date AS month,
           bit_or(1 << (extract(day FROM day)::integer - 1)) AS mask
      FROM rollup_cells GROUP BY 1, 2;
    UPDATE conference.rollup_people p SET days = p.days & ~m.mask FROM rollup_months m
     WHERE p.school_id = m.school_id AND p.month = m.month AND p.days & m.mask <> 0;
    DELETE FROM conference.rollup_people p USING rollup_months m
     WHERE p.school_id = m.school_id AND p.month = m.month AND p.days = 0;

    -- The visits of each cell: those that began on it or the day before (a visit lasts at
    -- most a day), as conference.stats_raw() reads them.
    CREATE TEMP TABLE rollup_visits ON COMMIT DROP AS
    SELECT c.school_id, c.day, c.t0, v.room_id, coalesce(v.user_id, v.guest_id) AS who,
           v.joined_at AS s,
           coalesce(v.left_at, greatest(v.joined_at, least(v.joined_at + p_typical, now()))) AS e,
           v.left_at IS NULL AS estimated
      FROM rollup_cells c JOIN conference.attendance v
        ON v.school_id = c.school_id AND v.joined_at >= c.t0 - interval '1 day'
       AND v.joined_at < c.t0 + interval '1 day';

    INSERT INTO conference.rollup_hours (school_id, day, hour, joins, distinct_users,
                                         usage_seconds, estimated_seconds)
    SELECT school_id, day, hour, sum(joins), sum(users), sum(seconds), sum(estimated)
      FROM (SELECT school_id, day, date_bin('1 hour', s, timestamptz '2000-01-01 00:00+00') AS hour,
                   count(*) AS joins, count(DISTINCT who) AS users, 0::numeric AS seconds,
                   0::numeric AS estimated
              FROM rollup_visits WHERE s >= t0 GROUP BY 1, 2, 3
            UNION ALL
            SELECT v.school_id, v.day, b, 0, 0,
                   sum(extract(epoch FROM least(v.e, b + interval '1 hour') - greatest(v.s, b))),
                   coalesce(sum(extract(epoch FROM least(v.e, b + interval '1 hour')
                                                    - greatest(v.s, b)))
                                FILTER (WHERE v.estimated), 0)
              FROM rollup_visits v
             CROSS JOIN LATERAL generate_series(
                       date_bin('1 hour', greatest(v.s, v.t0), timestamptz '2000-01-01 00:00+00'),
                       least(v.e, v.t0 + interval '1 day'), interval '1 hour') AS b
             WHERE v.e > v.t0 AND v.e > v.s AND b < least(v.e, v.t0 + interval '1 day')
             GROUP BY 1, 2, 3) x
     GROUP BY 1, 2, 3;

    INSERT INTO conference.rollup_people AS p (school_id, month, who, days)
    SELECT school_id, date_trunc('month', day)::date, who,
           bit_or(1 << (extract(day FROM day)::integer - 1))
      FROM rollup_visits WHERE s >= t0 AND who IS NOT NULL
     GROUP BY 1, 2, 3
        ON CONFLICT (school_id, month, who) DO UPDATE SET days = p.days | excluded.days;

    -- A room's visits cut at the cell's edges and merged where they overlap or touch (as the
    -- count of open rooms treats them: an arrival at the moment of a leave keeps the room open).
    INSERT INTO conference.rollup_spans (school_id, day, room_id, opened_at, closed_at, carried)
    SELECT school_id, day, room_id, min(s), max(e), bool_or(carried)
      FROM (SELECT *, count(*) FILTER (WHERE prev IS NULL OR s > prev)
                        OVER (PARTITION BY school_id, day, room_id ORDER BY s, e
                              ROWS UNBOUNDED PRECEDING) AS span
              FROM (SELECT *, max(e) OVER (PARTITION BY school_id, day, room_id ORDER BY s, e
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
                      FROM (SELECT school_id, day, room_id, greatest(s, t0) AS s,
                                   least(e, t0 + interval '1 day') AS e, s < t0 AS carried
                              FROM rollup_visits
                             WHERE least(e, t0 + interval '1 day') > greatest(s, t0)) cut) o) g
     GROUP BY school_id, day, room_id, span;

    UPDATE conference.rollup_days r
       SET dirty = false, typical = p_typical, rolled_at = now(),
           joins = coalesce(x.joins, 0), distinct_users = coalesce(x.users, 0),
           usage_seconds = coalesce(h.seconds, 0), estimated_seconds = coalesce(h.estimated, 0)
      FROM rollup_cells c
      LEFT JOIN (SELECT school_id, day, count(*) AS joins, count(DISTINCT who) AS users
                   FROM rollup_visits WHERE s >= t0 GROUP BY 1, 2) x USING (school_id, day)
      LEFT JOIN (SELECT h.school_id, h.day, sum(h.usage_seconds) AS seconds,
                        sum(h.estimated_seconds) AS estimated
                   FROM rollup_cells k JOIN conference.rollup_hours h USING (school_id, day)
                  GROUP BY 1, 2) h USING (school_id, day)
     WHERE r.school_id = c.school_id AND r.day = c.day;
    DROP TABLE rollup_cells, rollup_months, rollup_visits;
    RETURN v_n;
END
$$;

-- ---- the figures -----------------------------------------------------------------------------

-- The figures from the visits alone: 0002's conference.stats() (with 0004's work_mem), kept
-- under a new name. The new stats() calls it where the roll-ups cannot answer exactly; the
-- tests compare the two.
ALTER FUNCTION stats(boolean, timestamptz, timestamptz, interval, interval) RENAME TO stats_raw;
-- No JIT for either: their CTEs' row estimates are defaults far above what they read, so the
-- planner's cost passes jit_above_cost and PostgreSQL spent 1.3 s compiling 200 functions for
-- a query that runs in 50 ms (bench/conference, 2026-12-05, auto_explain's JIT timing).
ALTER FUNCTION stats_raw(boolean, timestamptz, timestamptz, interval, interval) SET jit = off;

-- The same answer as stats_raw(), from the roll-ups where a school's whole day inside the
-- range is rolled up and current, and from the visits elsewhere: per school, the runs of days
-- that are not ("islands", read with the day before each, as stats_raw reads its range). In
-- between, the sums are the same sums, the distinct people of a bucket are counted per school
-- (a bucket lies within one day, which is either rolled up or not; ids are random UUIDs, so no
-- person is in two schools) and of the whole range as one set, and the open rooms are counted
-- from the rooms' spans, merged with the visits of the islands cut at their edges.
CREATE FUNCTION stats(p_all boolean, p_from timestamptz, p_to timestamptz,
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
    raw AS MATERIALIZED (
        SELECT v.school_id, v.room_id, coalesce(v.user_id, v.guest_id) AS who, v.joined_at AS s,
               coalesce(v.left_at, greatest(v.joined_at,
                                            least(v.joined_at + p_typical, now()))) AS e,
               v.left_at IS NULL AS estimated, i.lo, i.hi
          FROM islands i JOIN conference.attendance v
            ON v.school_id = i.school_id AND v.joined_at >= i.lo - interval '1 day'
           AND v.joined_at < i.hi
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
                SELECT date_bin(p_step, s, timestamptz '2000-01-01 00:00+00'), count(*),
                       count(DISTINCT who), 0, 0
                  FROM raw WHERE s >= lo GROUP BY school_id, 1
                UNION ALL
                SELECT b, 0, 0,
                       sum(extract(epoch FROM least(v.e, b + p_step, v.hi)
                                              - greatest(v.s, b, v.lo))),
                       coalesce(sum(extract(epoch FROM least(v.e, b + p_step, v.hi)
                                                       - greatest(v.s, b, v.lo)))
                                    FILTER (WHERE v.estimated), 0)
                  FROM raw v
                 CROSS JOIN LATERAL generate_series(
                           date_bin(p_step, greatest(v.s, v.lo),
                                    timestamptz '2000-01-01 00:00+00'),
                           least(v.e, v.hi), p_step) AS b
                 WHERE v.e > v.lo AND v.e > v.s AND b < least(v.e, v.hi)
                 GROUP BY 1) x
         GROUP BY bucket
    ),
    -- every room's open times inside the range, cut at the edges of days and islands (where
    -- a room stays open, its two pieces touch and count as one). A room open already before
    -- the range opens a microsecond before it, as in stats_raw(): counted as open at the start,
    -- but no event of the first bucket.
    intervals AS (
        SELECT school_id, room_id,
               CASE WHEN carried AND opened_at = p_from THEN p_from - interval '1 microsecond'
                    ELSE opened_at END AS s,
               closed_at AS e
          FROM spans
        UNION ALL
        SELECT school_id, room_id,
               CASE WHEN s < p_from THEN p_from - interval '1 microsecond'
                    ELSE greatest(s, lo) END,
               least(e, hi)
          FROM raw WHERE least(e, hi) > greatest(s, lo)
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
        SELECT who FROM raw WHERE s >= lo AND who IS NOT NULL
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
