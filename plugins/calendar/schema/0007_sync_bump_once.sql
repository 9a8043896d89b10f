-- SPDX-License-Identifier: Apache-2.0
-- calendar 0007: a transaction moves a calendar's change number once, not once per row.
--
-- The triggers of 0004 bumped calendars.sync_seq for every event or to-do written or deleted.
-- Each bump is an UPDATE of the calendar's one row, and within one transaction every UPDATE
-- leaves a row version the next one must walk past: an .ics import of n events (one INSERT of
-- n rows), a subscription's refresh or a bulk delete took time in n squared (20,000 rows:
-- seconds of PostgreSQL's CPU inside heap_hot_search_buffer).
--
-- A change number only has to order commits: every row a transaction writes may share one,
-- since they become visible together. So the first write of a transaction to a calendar bumps
-- it and records the transaction (sync_xact); later writes of the same transaction take that
-- number without a new row version. The row lock the first UPDATE took still serialises two
-- writers of one calendar until commit, which is what keeps numbers in commit order. A
-- savepoint rolled back takes its bump with it (sync_xact goes back too), and the next write
-- bumps again. Any other update of the calendar row (a rename) leaves sync_xact alone, so it
-- does not stand in for a bump.
ALTER TABLE calendars ADD COLUMN sync_xact xid8;

-- The calendar's change number for a write by this transaction, bumped by its first write;
-- NULL when the calendar is gone (being deleted with its events).
CREATE FUNCTION sync_bump(p_school uuid, p_calendar uuid) RETURNS bigint
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
DECLARE
    seq bigint;
BEGIN
    UPDATE calendar.calendars c SET sync_seq = c.sync_seq + 1, sync_xact = pg_current_xact_id()
     WHERE c.school_id = p_school AND c.id = p_calendar
       AND c.sync_xact IS DISTINCT FROM pg_current_xact_id()
    RETURNING c.sync_seq INTO seq;
    IF NOT FOUND THEN
        SELECT c.sync_seq INTO seq FROM calendar.calendars c
         WHERE c.school_id = p_school AND c.id = p_calendar;
    END IF;
    RETURN seq;
END $$;

CREATE OR REPLACE FUNCTION events_sync_bump() RETURNS trigger
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
BEGIN
    NEW.sync_seq := calendar.sync_bump(NEW.school_id, NEW.calendar_id);
    -- A name used again is no longer gone.
    DELETE FROM calendar.dav_tombstones t
     WHERE t.school_id = NEW.school_id AND t.calendar_id = NEW.calendar_id
       AND t.name = coalesce(NEW.dav_name, NEW.id::text || '.ics');
    IF TG_OP = 'UPDATE' AND (OLD.calendar_id <> NEW.calendar_id
                             OR OLD.dav_name IS DISTINCT FROM NEW.dav_name) THEN
        PERFORM calendar.events_sync_gone(OLD.school_id, OLD.calendar_id,
                                          coalesce(OLD.dav_name, OLD.id::text || '.ics'));
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION events_sync_gone(p_school uuid, p_calendar uuid, p_name text)
RETURNS void
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
DECLARE
    seq bigint := calendar.sync_bump(p_school, p_calendar);
BEGIN
    IF seq IS NOT NULL THEN -- not when the calendar itself is being deleted
        INSERT INTO calendar.dav_tombstones (school_id, calendar_id, name, sync_seq)
        VALUES (p_school, p_calendar, p_name, seq)
        ON CONFLICT (school_id, calendar_id, name)
        DO UPDATE SET sync_seq = EXCLUDED.sync_seq, gone_at = now();
    END IF;
END $$;
