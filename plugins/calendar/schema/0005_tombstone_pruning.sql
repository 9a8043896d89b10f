-- SPDX-License-Identifier: Apache-2.0
-- calendar 0005: the tombstones of deleted events are pruned (issue #19; prune.c).
--
-- A tombstone (0004) tells a client that synced before a deletion that the event is gone. It
-- need not be kept for ever: a client that has not synced for tombstone_days (prune.c) gets
-- 403 valid-sync-token for its old token and syncs afresh (RFC 6578 3.2), which loses it
-- nothing. Each calendar keeps the highest change number pruned as its sync_floor: a token
-- below it may have missed a deletion, so it is refused; tokens at or above it are answered
-- as before.
ALTER TABLE dav_tombstones ADD COLUMN gone_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX dav_tombstones_by_age ON dav_tombstones (school_id, gone_at);
ALTER TABLE calendars ADD COLUMN sync_floor bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION events_sync_gone(p_school uuid, p_calendar uuid, p_name text)
RETURNS void
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
DECLARE
    seq bigint;
BEGIN
    UPDATE calendar.calendars c SET sync_seq = c.sync_seq + 1
     WHERE c.school_id = p_school AND c.id = p_calendar
    RETURNING c.sync_seq INTO seq;
    IF FOUND THEN -- not when the calendar itself is being deleted
        INSERT INTO calendar.dav_tombstones (school_id, calendar_id, name, sync_seq)
        VALUES (p_school, p_calendar, p_name, seq)
        ON CONFLICT (school_id, calendar_id, name)
        DO UPDATE SET sync_seq = EXCLUDED.sync_seq, gone_at = now();
    END IF;
END $$;

-- The pruning runs outside any school first: which schools have tombstones older than
-- p_before. Then each school's are pruned in a transaction of that school (prune.c).
CREATE FUNCTION schools_with_old_tombstones(p_before timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = calendar, pg_temp AS $$
    SELECT DISTINCT t.school_id FROM calendar.dav_tombstones t WHERE t.gone_at < p_before
$$;

-- Prunes the current school's tombstones older than p_before (at most p_limit of them) and
-- raises their calendars' sync_floor; returns how many went. Runs as the caller, under
-- row-level security.
CREATE FUNCTION prune_tombstones(p_before timestamptz, p_limit integer) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = calendar, pg_temp AS $$
    WITH gone AS (
        DELETE FROM calendar.dav_tombstones t
         WHERE t.ctid IN (SELECT o.ctid FROM calendar.dav_tombstones o
                           WHERE o.school_id = core.current_school() AND o.gone_at < p_before
                           ORDER BY o.gone_at LIMIT p_limit)
        RETURNING t.school_id, t.calendar_id, t.sync_seq
    ), floors AS (
        UPDATE calendar.calendars c SET sync_floor = greatest(c.sync_floor, f.top)
          FROM (SELECT school_id, calendar_id, max(sync_seq) AS top FROM gone
                 GROUP BY school_id, calendar_id) f
         WHERE c.school_id = f.school_id AND c.id = f.calendar_id
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
