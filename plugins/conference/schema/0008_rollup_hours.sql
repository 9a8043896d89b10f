-- SPDX-License-Identifier: Apache-2.0
-- conference 0008: the figures' open edges from roll-ups per closed hour (issue #16).
--
-- After 0006/0007 the operators' month over 10 million visits still read 671,667 visits from
-- the rows (bench/RESULTS.md, 2.83 s): its open edges were whole days. A day is rolled up 13
-- hours after it ended (a leave may close a visit of the last 12 hours), so in the morning
-- yesterday is still open; and a range that begins at 10:00 thirty days ago read that whole
-- first day from the rows, though it had long been rolled up, because the roll-up answered
-- only for whole days. Now both edges shrink to hours:
--
--   - an hour is closed by the same rule as a day, on its own end: it ended more than
--     max(typical, 12 hours) + 1 hour ago. The roll-up also rolls up the closed hours of the
--     day that is not closed yet (one per school: the day of the closing time), up to
--     rollup_days.hours_upto, and again once three more of its hours have closed. So in the
--     morning all of yesterday's lessons are rolled up, and only the last 13 to 16 hours are
--     read from the rows;
--   - a rolled-up day (or the rolled-up hours of one) answers for any whole hours of it inside
--     the range, not only for the whole day: a range that begins inside a rolled-up day reads
--     only its first, partial hour from the rows (with the look-back), and one that ends inside
--     one only its last.
--
-- What each bucket needs from the hours, and why the figures stay exact:
--   - joins, usage and estimated seconds are sums: the rolled hours' sums (rollup_hours) add
--     up with the rows' to the same numbers;
--   - distinct people of an hour bucket are rollup_hours' own count (a bucket is wholly rolled
--     up or wholly read from the rows: the rolled part of a day starts and ends on hours);
--     but the distinct people of a day are not a sum of its hours' (one person in two lessons
--     counts once), nor are those of the range. So the roll-up keeps, per school, day and
--     person, a bit per hour in which they joined (rollup_hour_people): the people of a day
--     bucket that is partly rolled up are those whose bits meet its rolled hours, united with
--     the people of its rows; those of the range add the same to the month bits of whole days
--     (rollup_people) and to the rows' people;
--   - open rooms: the rooms' open spans of a partially rolled-up day are kept cut at
--     hours_upto and are cut again at the edge of the rolled part; the rows' visits of the
--     hours next to it are cut at the same instant, so where a room stays open the two pieces
--     touch and count as one (as they already did at midnight), and elsewhere the room opens or
--     closes where it did;
--   - a change to a visit that began more than 12 hours ago marks its day and the next dirty
--     (0006's trigger), and now also their hours (hours_dirty); every visit of a rolled-up hour
--     began more than 13 hours before the roll-up, so no change to it goes unmarked.
--
-- Why not an incremental "today" kept as joins and leaves happen: it would put work on every
-- join and leave of the 08:00 rush (measured against pgbench TPC-B, at 0.54 of it against a
-- goal of 0.5), and a leave may still change a visit for 12 hours. The hours cost the rush
-- nothing (the roll-up runs on the leader's timer) and keep 0006's one rule for what is final.
-- The price: the day that is not closed yet is rolled up again each time three more of its
-- hours have closed (up to eight times a day, each time from its first hour; its visits are a
-- day's at most). Three, not one: a third of the work for up to three more evening hours from
-- the rows.
--
-- Days rolled up before this migration have no hour bits (hours_upto is NULL): they still
-- answer for whole days, and their partial edges are read from the rows until they are rolled
-- up again (they are not re-rolled by themselves; marking them dirty re-rolls them).

ALTER TABLE rollup_days
    ADD COLUMN hours_upto timestamptz,         -- the rolled-up hours of the day end here
    ADD COLUMN hours_typical interval,         -- the typical visit length they were made with
    ADD COLUMN hours_dirty boolean NOT NULL DEFAULT false;

-- who: as in rollup_people; bit n of hours: the hour from n:00 UTC of the day.
CREATE TABLE rollup_hour_people (
    school_id   uuid NOT NULL,
    day         date NOT NULL,
    who         uuid NOT NULL,
    hours       integer NOT NULL CHECK (hours > 0 AND hours < (1 << 24)),
    PRIMARY KEY (school_id, day, who),
    FOREIGN KEY (school_id, day) REFERENCES rollup_days (school_id, day) ON DELETE CASCADE
);
ALTER TABLE rollup_hour_people ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollup_hour_people FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON rollup_hour_people
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- ---- marking changed days --------------------------------------------------------------------

-- As 0006's, and the day's rolled-up hours go dirty with it.
CREATE OR REPLACE FUNCTION rollup_mark(p_school uuid, p_joined timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = conference, pg_temp SET TimeZone = 'UTC' AS $$
    INSERT INTO conference.rollup_days AS r (school_id, day)
    SELECT p_school, d
      FROM (VALUES (p_joined::date), (p_joined::date + 1)) AS v(d)
     WHERE EXISTS (SELECT 1 FROM core.schools WHERE id = p_school)
     ORDER BY d
        ON CONFLICT (school_id, day) DO UPDATE SET dirty = true, hours_dirty = true
     WHERE NOT r.dirty OR NOT r.hours_dirty
$$;

-- ---- rolling up ------------------------------------------------------------------------------

-- As 0006's, with two more kinds of work: every cell also keeps its people's hour bits, and
-- after the closed days come the closed hours of each school's day that is not closed yet
-- (the day of the closing time, up to it: hours_upto), when it has visits and its rolled-up
-- hours are dirty, of another typical length, missing, or three hours or more behind. Such a
-- cell keeps its hours, spans and hour bits, but not the day's sums or month bits, and its row
-- stays dirty: the day is rolled up whole once it closes.
CREATE OR REPLACE FUNCTION rollup(p_typical interval, p_max_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = conference, pg_temp SET TimeZone = 'UTC'
SET work_mem = '64MB' AS $$
DECLARE
    v_closing timestamptz := date_bin('1 hour', now() - greatest(p_typical, interval '12 hours')
                                                - interval '1 hour',
                                      timestamptz '2000-01-01 00:00+00');
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

    -- upto: where the cell's rolled-up part ends (the next midnight for a closed day)
    CREATE TEMP TABLE rollup_cells ON COMMIT DROP AS
    SELECT school_id, day, day::timestamp AT TIME ZONE 'UTC' AS t0, upto,
           upto = (day + 1)::timestamp AT TIME ZONE 'UTC' AS whole
      FROM (SELECT r.school_id, r.day, (r.day + 1)::timestamp AT TIME ZONE 'UTC' AS upto
              FROM conference.rollup_days r
             WHERE r.typical IS NOT NULL AND (r.dirty OR r.typical <> p_typical)
               AND r.day <= v_last
            UNION
            SELECT s.id, d::date, d + interval '1 day'
              FROM core.schools s
             CROSS JOIN LATERAL (
                   SELECT coalesce((SELECT max(r.day) + 1 FROM conference.rollup_days r
                                     WHERE r.school_id = s.id AND r.typical IS NOT NULL),
                                   (SELECT min(a.joined_at)::date FROM conference.attendance a
                                     WHERE a.school_id = s.id)) AS first) f
             CROSS JOIN LATERAL generate_series(f.first, v_last, interval '1 day') AS d
             WHERE f.first <= v_last
            UNION
            SELECT s.id, v_closing::date, v_closing
              FROM core.schools s
             WHERE v_closing > v_closing::date::timestamp AT TIME ZONE 'UTC'
               AND EXISTS (SELECT 1 FROM conference.attendance a
                            WHERE a.school_id = s.id
                              AND a.joined_at >= v_closing - interval '2 days'
                              AND a.joined_at < v_closing)
               AND NOT EXISTS (SELECT 1 FROM conference.rollup_days r
                                WHERE r.school_id = s.id AND r.day = v_closing::date
                                  AND r.hours_upto > v_closing - interval '3 hours'
                                  AND NOT r.hours_dirty AND r.hours_typical = p_typical)) c
     ORDER BY day, school_id
     LIMIT p_max_days;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        DROP TABLE rollup_cells;
        RETURN 0;
    END IF;

    -- Claim the cells (0006): their rows stay locked until commit.
    INSERT INTO conference.rollup_days AS r (school_id, day)
    SELECT school_id, day FROM rollup_cells ORDER BY school_id, day
        ON CONFLICT (school_id, day) DO UPDATE SET dirty = true;

    DELETE FROM conference.rollup_hours h USING rollup_cells c
     WHERE h.school_id = c.school_id AND h.day = c.day;
    DELETE FROM conference.rollup_spans p USING rollup_cells c
     WHERE p.school_id = c.school_id AND p.day = c.day;
    DELETE FROM conference.rollup_hour_people p USING rollup_cells c
     WHERE p.school_id = c.school_id AND p.day = c.day;
    CREATE TEMP TABLE rollup_months ON COMMIT DROP AS
    SELECT school_id, date_trunc('month', day)::date AS month,
           bit_or(1 << (extract(day FROM day)::integer - 1)) AS mask
      FROM rollup_cells GROUP BY 1, 2;
    UPDATE conference.rollup_people p SET days = p.days & ~m.mask FROM rollup_months m
     WHERE p.school_id = m.school_id AND p.month = m.month AND p.days & m.mask <> 0;
    DELETE FROM conference.rollup_people p USING rollup_months m
     WHERE p.school_id = m.school_id AND p.month = m.month AND p.days = 0;

    -- The visits of each cell up to its end, and those from the day before that may last
    -- into it (a visit lasts at most a day).
    CREATE TEMP TABLE rollup_visits ON COMMIT DROP AS
    SELECT c.school_id, c.day, c.t0, c.upto, c.whole, v.room_id,
           coalesce(v.user_id, v.guest_id) AS who, v.joined_at AS s,
           coalesce(v.left_at, greatest(v.joined_at, least(v.joined_at + p_typical, now()))) AS e,
           v.left_at IS NULL AS estimated
      FROM rollup_cells c JOIN conference.attendance v
        ON v.school_id = c.school_id AND v.joined_at >= c.t0 - interval '1 day'
       AND v.joined_at < c.upto;

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
                       least(v.e, v.upto), interval '1 hour') AS b
             WHERE v.e > v.t0 AND v.e > v.s AND b < least(v.e, v.upto)
             GROUP BY 1, 2, 3) x
     GROUP BY 1, 2, 3;

    INSERT INTO conference.rollup_people AS p (school_id, month, who, days)
    SELECT school_id, date_trunc('month', day)::date, who,
           bit_or(1 << (extract(day FROM day)::integer - 1))
      FROM rollup_visits WHERE s >= t0 AND whole AND who IS NOT NULL
     GROUP BY 1, 2, 3
        ON CONFLICT (school_id, month, who) DO UPDATE SET days = p.days | excluded.days;

    INSERT INTO conference.rollup_hour_people (school_id, day, who, hours)
    SELECT school_id, day, who, bit_or(1 << extract(hour FROM s)::integer)
      FROM rollup_visits WHERE s >= t0 AND who IS NOT NULL
     GROUP BY 1, 2, 3;

    -- A room's visits cut at the cell's edges and merged where they overlap or touch (0006).
    INSERT INTO conference.rollup_spans (school_id, day, room_id, opened_at, closed_at, carried)
    SELECT school_id, day, room_id, min(s), max(e), bool_or(carried)
      FROM (SELECT *, count(*) FILTER (WHERE prev IS NULL OR s > prev)
                        OVER (PARTITION BY school_id, day, room_id ORDER BY s, e
                              ROWS UNBOUNDED PRECEDING) AS span
              FROM (SELECT *, max(e) OVER (PARTITION BY school_id, day, room_id ORDER BY s, e
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
                      FROM (SELECT school_id, day, room_id, greatest(s, t0) AS s,
                                   least(e, upto) AS e, s < t0 AS carried
                              FROM rollup_visits
                             WHERE least(e, upto) > greatest(s, t0)) cut) o) g
     GROUP BY school_id, day, room_id, span;

    -- Closed days: their sums, current. Either kind: its hours, current up to upto.
    UPDATE conference.rollup_days r
       SET dirty = NOT c.whole AND r.dirty,
           typical = CASE WHEN c.whole THEN p_typical ELSE r.typical END,
           rolled_at = now(),
           joins = CASE WHEN c.whole THEN coalesce(x.joins, 0) ELSE r.joins END,
           distinct_users = CASE WHEN c.whole THEN coalesce(x.users, 0) ELSE r.distinct_users END,
           usage_seconds = CASE WHEN c.whole THEN coalesce(h.seconds, 0) ELSE r.usage_seconds END,
           estimated_seconds = CASE WHEN c.whole THEN coalesce(h.estimated, 0)
                                    ELSE r.estimated_seconds END,
           hours_upto = c.upto, hours_typical = p_typical, hours_dirty = false
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

-- Where the rolled-up rooms' spans and hours of a day are current for p_want up to (NULL:
-- nowhere): the next midnight for a day rolled up whole, hours_upto for the rolled-up hours of
-- a day not closed yet.
CREATE FUNCTION rollup_upto(p_day date, p_dirty boolean, p_typical interval,
                            p_hours_upto timestamptz, p_hours_dirty boolean,
                            p_hours_typical interval, p_want interval)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN NOT p_dirty AND p_typical = p_want
                THEN (p_day + 1)::timestamp AT TIME ZONE 'UTC'
                WHEN NOT p_hours_dirty AND p_hours_typical = p_want
                     AND p_hours_upto < (p_day + 1)::timestamp AT TIME ZONE 'UTC'
                THEN p_hours_upto END
$$;

-- As 0007's, also from the rolled-up hours of a day not closed yet: p_at inside a day whose
-- spans are current up to p_at or later.
CREATE OR REPLACE FUNCTION lookback(p_school uuid, p_at timestamptz, p_typical interval)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = conference, pg_temp SET TimeZone = 'UTC' AS $$
    WITH day AS (
        SELECT date_bin('1 day', p_at, timestamptz '2000-01-01 00:00+00') AS d0
    ),
    rolled AS (
        SELECT r.day, conference.rollup_upto(r.day, r.dirty, r.typical, r.hours_upto,
                                             r.hours_dirty, r.hours_typical, p_typical) AS upto
          FROM conference.rollup_days r, day
         WHERE r.school_id = p_school AND r.day IN ((d0 - interval '1 day')::date, d0::date)
    ),
    -- from midnight d0: the spans of the day before that reach it
    at_midnight AS (
        SELECT CASE WHEN EXISTS (SELECT 1 FROM rolled, day
                                  WHERE rolled.day = (d0 - interval '1 day')::date
                                    AND rolled.upto = d0)
                    THEN coalesce((SELECT min(p.opened_at) FROM conference.rollup_spans p, day
                                    WHERE p.school_id = p_school
                                      AND p.day = (d0 - interval '1 day')::date
                                      AND p.closed_at = d0), (SELECT d0 FROM day))
                    ELSE (SELECT d0 - interval '1 day' FROM day) END AS t
    )
    SELECT greatest(p_at - interval '1 day',
                    CASE WHEN p_at = (SELECT d0 FROM day) THEN (SELECT t FROM at_midnight)
                         WHEN NOT EXISTS (SELECT 1 FROM rolled, day
                                           WHERE rolled.day = d0::date AND rolled.upto >= p_at)
                         THEN p_at - interval '1 day'
                         -- spans cut at hours_upto = p_at end there: >=, not >
                         ELSE coalesce((SELECT min(CASE WHEN p.carried
                                                        THEN (SELECT t FROM at_midnight)
                                                        ELSE p.opened_at END)
                                          FROM conference.rollup_spans p, day
                                         WHERE p.school_id = p_school AND p.day = d0::date
                                           AND p.opened_at < p_at AND p.closed_at >= p_at),
                                       p_at) END);
$$;

-- As 0007's, with the rolled-up part of each school's day in the range no longer all or
-- nothing: a day rolled up whole and wholly inside the range answers from its day's row as
-- before; otherwise the whole hours inside the range of a day whose hours are rolled up (up
-- to rollup_upto(); with hour bits: hours_upto set) answer from the hours ([rlo, rhi)), and
-- the rest of the range ("islands", now bounded by hours) is read from the visits.
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
    WITH days AS (
        SELECT sc.id AS school_id, d::date AS day, d AS t0, greatest(d, p_from) AS lo,
               least(d + interval '1 day', p_to) AS hi,
               coalesce(d >= p_from AND d + interval '1 day' <= p_to AND NOT r.dirty
                        AND r.typical = p_typical, false) AS whole,
               -- the whole hours of the range inside the day's rolled-up part
               CASE WHEN p_from > d
                    THEN date_bin('1 hour', p_from, timestamptz '2000-01-01 00:00+00')
                         + interval '1 hour'
                    ELSE d END AS rlo,
               (SELECT least(u, date_bin('1 hour', p_to, timestamptz '2000-01-01 00:00+00'))
                  FROM conference.rollup_upto(r.day, r.dirty, r.typical, r.hours_upto,
                                              r.hours_dirty, r.hours_typical, p_typical) AS u
                 WHERE r.hours_upto IS NOT NULL AND u IS NOT NULL) AS rhi -- (least() skips NULLs)
          FROM unnest(v_schools) AS sc(id)
         CROSS JOIN generate_series(date_bin('1 day', p_from, timestamptz '2000-01-01 00:00+00'),
                                    p_to - interval '1 microsecond', interval '1 day') AS d
          LEFT JOIN conference.rollup_days r ON r.school_id = sc.id AND r.day = d::date
         WHERE sc.id IS NOT NULL
    ),
    -- rlo/rhi: the rolled-up part of the day inside the range (NULL: none); mask: its hours
    cells AS MATERIALIZED (
        SELECT school_id, day, t0, lo, hi, whole,
               CASE WHEN whole THEN t0 WHEN rlo < rhi THEN rlo END AS rlo,
               CASE WHEN whole THEN t0 + interval '1 day' WHEN rlo < rhi THEN rhi END AS rhi,
               CASE WHEN NOT whole AND rlo < rhi
                    THEN ((1 << (extract(epoch FROM rhi - rlo)::integer / 3600)) - 1)
                         << (extract(epoch FROM rlo - t0)::integer / 3600) END AS mask
          FROM days
    ),
    -- the parts of the range read from the visits: per school, the runs of what no cell's
    -- rolled-up part covers
    pieces AS (
        SELECT school_id, lo, hi FROM cells WHERE rlo IS NULL
        UNION ALL
        SELECT school_id, lo, rlo FROM cells WHERE rlo > lo
        UNION ALL
        SELECT school_id, rhi, hi FROM cells WHERE rhi < hi
    ),
    islands AS (
        SELECT school_id, min(lo) AS lo, max(hi) AS hi
          FROM (SELECT school_id, lo, hi,
                       count(*) FILTER (WHERE prev IS NULL OR prev <> lo)
                           OVER (PARTITION BY school_id ORDER BY lo ROWS UNBOUNDED PRECEDING)
                           AS island
                  FROM (SELECT *, lag(hi) OVER (PARTITION BY school_id ORDER BY lo) AS prev
                          FROM pieces) x) y
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
    -- the people of the rolled-up hours of days not wholly rolled up (a few cells: looked up
    -- by each, not merged with the whole table, which the planner chose for the CTE's guess)
    hour_people AS MATERIALIZED (
        SELECT c.school_id, c.t0 AS bucket, p.who
          FROM cells c
         CROSS JOIN LATERAL (SELECT h.who FROM conference.rollup_hour_people h
                              WHERE h.school_id = c.school_id AND h.day = c.day
                                AND h.hours & c.mask <> 0 OFFSET 0) p
         WHERE c.mask IS NOT NULL
    ),
    -- the part of each visit inside its island, and the first and last bucket it touches
    raw_usage AS (
        SELECT greatest(s, lo) AS s, least(e, hi) AS e, estimated,
               date_bin(p_step, greatest(s, lo), timestamptz '2000-01-01 00:00+00') AS b0,
               date_bin(p_step, least(e, hi) - interval '1 microsecond',
                        timestamptz '2000-01-01 00:00+00') AS b1
          FROM raw WHERE least(e, hi) > greatest(s, lo)
    ),
    figures AS (
        SELECT bucket, sum(joins) AS joins, sum(users) AS users, sum(seconds) AS seconds,
               sum(estimated) AS estimated
          FROM (SELECT c.t0 AS bucket, r.joins, r.distinct_users AS users,
                       r.usage_seconds AS seconds, r.estimated_seconds AS estimated
                  FROM cells c JOIN conference.rollup_days r USING (school_id, day)
                 WHERE c.whole AND p_step = interval '1 day'
                UNION ALL
                -- hours: an hour bucket's people are its own; a day's are counted below
                SELECT date_bin(p_step, h.hour, timestamptz '2000-01-01 00:00+00'), h.joins,
                       CASE WHEN p_step = interval '1 hour' THEN h.distinct_users ELSE 0 END,
                       h.usage_seconds, h.estimated_seconds
                  FROM cells c JOIN conference.rollup_hours h USING (school_id, day)
                 WHERE (c.whole AND p_step = interval '1 hour')
                    OR (NOT c.whole AND h.hour >= c.rlo AND h.hour < c.rhi)
                UNION ALL
                SELECT bucket, sum(n), 0, 0, 0 FROM raw_people GROUP BY bucket
                UNION ALL
                -- a day bucket not wholly rolled up: the people of its rows and of its hours
                SELECT bucket, 0, count(*), 0, 0
                  FROM (SELECT school_id, bucket, who FROM raw_people WHERE who IS NOT NULL
                        UNION
                        SELECT school_id, bucket, who FROM hour_people
                         WHERE p_step = interval '1 day') p
                 GROUP BY school_id, bucket
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
    -- every room's open times inside the range, cut at the edges of the rolled-up parts and
    -- islands (where a room stays open, its two pieces touch and count as one). A room open
    -- already before the range opens a microsecond before it, as in stats_raw(): counted as
    -- open at the start, but no event of the first bucket.
    raw_cut AS (
        SELECT school_id, room_id,
               CASE WHEN s < p_from THEN p_from - interval '1 microsecond'
                    ELSE greatest(s, lo) END AS s,
               least(e, hi) AS e
          FROM raw WHERE least(e, hi) > greatest(s, lo)
    ),
    raw_open AS (
        SELECT school_id, room_id, s, e, count(*) FILTER (WHERE s > before) OVER w AS n
          FROM (SELECT school_id, room_id, s, e,
                       max(e) OVER (PARTITION BY room_id, school_id ORDER BY s, e
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
                  FROM raw_cut) c
        WINDOW w AS (PARTITION BY room_id, school_id ORDER BY s, e ROWS UNBOUNDED PRECEDING)
    ),
    intervals AS (
        SELECT p.school_id, p.room_id,
               CASE WHEN p.carried AND p.opened_at = p_from THEN p_from - interval '1 microsecond'
                    ELSE greatest(p.opened_at, c.rlo) END AS s,
               least(p.closed_at, c.rhi) AS e
          FROM cells c JOIN conference.rollup_spans p USING (school_id, day)
         WHERE c.rlo IS NOT NULL AND p.closed_at > c.rlo AND p.opened_at < c.rhi
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
    -- the people of the whole range: the whole days' month bits, the other rolled-up hours'
    -- bits, and the islands' visits
    months AS (
        SELECT school_id, date_trunc('month', day)::date AS month,
               bit_or(1 << (extract(day FROM day)::integer - 1)) AS mask
          FROM cells WHERE whole GROUP BY 1, 2
    ),
    people AS (
        SELECT p.who FROM months m JOIN conference.rollup_people p
            ON p.school_id = m.school_id AND p.month = m.month AND p.days & m.mask <> 0
        UNION
        SELECT who FROM hour_people
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
