-- SPDX-License-Identifier: Apache-2.0
-- calendar 0006: to-dos (VTODO, RFC 5545 3.6.2; issue #19; plugins/calendar/todos.c,
-- ical-todo.c, docs/CALDAV.md).
--
-- A to-do lives in a calendar beside its events (a CalDAV calendar holds VEVENT and VTODO, as
-- clients expect of most servers), but in a table of its own: the window views, the REST
-- event routes, the occurrences and the feeds read calendar.events only, so a to-do cannot
-- show up there by accident. One row per iCalendar UID, like an event: the VCALENDAR text as
-- libical serialised what the client sent (alarms, X- properties and recurrence survive a
-- round trip), and the properties a list or a query needs in columns, read from that text when
-- it is written. Times are what the text says, in UTC; *_is_date says DTSTART and DUE are
-- dates (RFC 5545 requires both of the same type).
CREATE TABLE todos (
    school_id        uuid NOT NULL,
    calendar_id      uuid NOT NULL,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    uid              text NOT NULL CHECK (length(uid) BETWEEN 1 AND 500),
    summary          text NOT NULL DEFAULT '',
    description      text,
    status           text CHECK (status IN ('needs-action', 'in-process', 'completed',
                                            'cancelled')),
    priority         smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
    percent_complete smallint CHECK (percent_complete BETWEEN 0 AND 100),
    starts_at        timestamptz,
    due_at           timestamptz,
    -- due_at is DTSTART + DURATION: the text has no DUE (a filter on DUE asks about the text)
    due_is_duration  boolean NOT NULL DEFAULT false,
    is_date          boolean NOT NULL DEFAULT false,
    completed_at     timestamptz,
    recurring        boolean NOT NULL DEFAULT false,
    ical             text NOT NULL,
    dav_name         text CHECK (dav_name ~ '^[^/]{1,255}$'),
    sync_seq         bigint NOT NULL DEFAULT 0,
    created_by       uuid,
    updated_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, calendar_id, uid),
    FOREIGN KEY (school_id, calendar_id) REFERENCES calendars (school_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX todos_by_dav_name
    ON todos (school_id, calendar_id, (coalesce(dav_name, id::text || '.ics')));
CREATE INDEX todos_by_sync ON todos (school_id, calendar_id, sync_seq);
CREATE INDEX todos_by_due ON todos (school_id, calendar_id, due_at);
CREATE INDEX todos_by_creator ON todos (school_id, created_by);

ALTER TABLE todos ENABLE ROW LEVEL SECURITY;
ALTER TABLE todos FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON todos
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- Sync: a to-do counts in its calendar's sync_seq and leaves a tombstone like an event, with
-- the same trigger functions (0004, 0005): they read only columns both tables have.
CREATE TRIGGER todos_sync_insert BEFORE INSERT ON todos
    FOR EACH ROW EXECUTE FUNCTION events_sync_bump();
CREATE TRIGGER todos_sync_update BEFORE UPDATE ON todos
    FOR EACH ROW WHEN (OLD.ical IS DISTINCT FROM NEW.ical
                       OR OLD.dav_name IS DISTINCT FROM NEW.dav_name
                       OR OLD.calendar_id IS DISTINCT FROM NEW.calendar_id)
    EXECUTE FUNCTION events_sync_bump();
CREATE TRIGGER todos_sync_delete AFTER DELETE ON todos
    FOR EACH ROW EXECUTE FUNCTION events_sync_delete();

-- A calendar collection is one namespace: a resource name and a UID (RFC 4791 5.3.2.1) belong
-- to an event or a to-do, not both. Each table's unique indexes hold within it; this checks the
-- other table. It runs after the sync triggers ("z" sorts last), which have taken the calendar
-- row's lock, so two writers of one calendar are serialised here and each sees the other's
-- committed row (READ COMMITTED: a new snapshot per statement). 23505 is a conflict (409).
CREATE FUNCTION dav_name_free() RETURNS trigger
LANGUAGE plpgsql SET search_path = calendar, pg_temp AS $$
DECLARE
    name text := coalesce(NEW.dav_name, NEW.id::text || '.ics');
BEGIN
    IF TG_TABLE_NAME = 'events' THEN
        PERFORM 1 FROM calendar.todos o
         WHERE o.school_id = NEW.school_id AND o.calendar_id = NEW.calendar_id
           AND (o.uid = NEW.uid OR coalesce(o.dav_name, o.id::text || '.ics') = name);
    ELSE
        PERFORM 1 FROM calendar.events o
         WHERE o.school_id = NEW.school_id AND o.calendar_id = NEW.calendar_id
           AND (o.uid = NEW.uid OR coalesce(o.dav_name, o.id::text || '.ics') = name);
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'the resource name or UID is taken in this calendar'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'dav_name_free';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER z_dav_name_free BEFORE INSERT OR UPDATE OF uid, dav_name, calendar_id ON todos
    FOR EACH ROW EXECUTE FUNCTION dav_name_free();
CREATE TRIGGER z_dav_name_free BEFORE INSERT OR UPDATE OF uid, dav_name, calendar_id ON events
    FOR EACH ROW EXECUTE FUNCTION dav_name_free();

-- What the CalDAV tree lists and reports: every resource of a calendar, event or to-do.
-- security_invoker: row-level security and rights are the caller's, as on the tables.
CREATE VIEW dav_objects WITH (security_invoker = true) AS
    SELECT e.school_id, e.calendar_id, e.id, e.uid, e.summary, e.ical, e.dav_name, e.sync_seq,
           e.created_at, e.updated_at, false AS is_todo
      FROM events e
    UNION ALL
    SELECT t.school_id, t.calendar_id, t.id, t.uid, t.summary, t.ical, t.dav_name, t.sync_seq,
           t.created_at, t.updated_at, true AS is_todo
      FROM todos t;
