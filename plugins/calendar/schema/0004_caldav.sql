-- SPDX-License-Identifier: Apache-2.0
-- calendar 0004: CalDAV (issue #19; plugins/calendar/caldav*.c, docs/CALDAV.md).
--
-- Names: a calendar's segment under /dav/{school}/calendars/{user}/ is its dav_name (what a
-- MKCALENDAR chose) or, for calendars made otherwise, its id; an event's resource name is its
-- dav_name (what the client PUT it as) or "<id>.ics" for events made through REST.
--
-- Sync (RFC 6578) and getctag: every calendar counts its changes in sync_seq. A write of an
-- event (a new row, or a changed text or name) takes the next number of its calendar under
-- the calendar row's lock, so numbers are handed out in commit order per calendar and a
-- client that saw number N has seen every change numbered up to N. A deleted event leaves a
-- tombstone with its name and number, so "what changed since N" names it as gone. The counter
-- and the tombstones are in the database: tokens survive restarts and work on every host.
-- Tombstones are kept (a few dozen bytes per deletion): they are not pruned yet.
ALTER TABLE calendars ADD COLUMN dav_name text
    CHECK (dav_name ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$'),
    ADD COLUMN sync_seq bigint NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX calendars_by_dav_name ON calendars (school_id, owner_type, owner_id, dav_name)
    WHERE dav_name IS NOT NULL;

ALTER TABLE events ADD COLUMN dav_name text
    CHECK (dav_name ~ '^[^/]{1,255}$'),
    ADD COLUMN sync_seq bigint NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX events_by_dav_name
    ON events (school_id, calendar_id, (coalesce(dav_name, id::text || '.ics')));
CREATE INDEX events_by_sync ON events (school_id, calendar_id, sync_seq);

CREATE TABLE dav_tombstones (
    school_id   uuid NOT NULL,
    calendar_id uuid NOT NULL,
    name        text NOT NULL,
    sync_seq    bigint NOT NULL,
    PRIMARY KEY (school_id, calendar_id, name),
    FOREIGN KEY (school_id, calendar_id) REFERENCES calendars (school_id, id) ON DELETE CASCADE
);
CREATE INDEX dav_tombstones_by_sync ON dav_tombstones (school_id, calendar_id, sync_seq);
ALTER TABLE dav_tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE dav_tombstones FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON dav_tombstones
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The triggers run as the caller (no SECURITY DEFINER): row-level security holds for them as
-- for the statement that fired them.
CREATE FUNCTION events_sync_bump() RETURNS trigger
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
BEGIN
    UPDATE calendar.calendars c SET sync_seq = c.sync_seq + 1
     WHERE c.school_id = NEW.school_id AND c.id = NEW.calendar_id
    RETURNING c.sync_seq INTO NEW.sync_seq;
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

CREATE FUNCTION events_sync_gone(p_school uuid, p_calendar uuid, p_name text) RETURNS void
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
        ON CONFLICT (school_id, calendar_id, name) DO UPDATE SET sync_seq = EXCLUDED.sync_seq;
    END IF;
END $$;

CREATE FUNCTION events_sync_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
BEGIN
    PERFORM calendar.events_sync_gone(OLD.school_id, OLD.calendar_id,
                                      coalesce(OLD.dav_name, OLD.id::text || '.ics'));
    RETURN OLD;
END $$;

CREATE TRIGGER events_sync_insert BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_sync_bump();
-- Storing or extending occurrences (occ_from, occ_to) is no change a client sees.
CREATE TRIGGER events_sync_update BEFORE UPDATE ON events
    FOR EACH ROW WHEN (OLD.ical IS DISTINCT FROM NEW.ical
                       OR OLD.dav_name IS DISTINCT FROM NEW.dav_name
                       OR OLD.calendar_id IS DISTINCT FROM NEW.calendar_id)
    EXECUTE FUNCTION events_sync_bump();
CREATE TRIGGER events_sync_delete AFTER DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_sync_delete();
