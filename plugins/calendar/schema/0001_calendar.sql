-- SPDX-License-Identifier: Apache-2.0
-- calendar 0001: calendars (of a person, a group or the school), their events as iCalendar text,
-- and secret subscription feeds.
CREATE TABLE calendars (
    school_id   uuid NOT NULL REFERENCES core.schools(id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    color       text CHECK (color ~ '^#[0-9a-f]{6}$'),
    -- Who the calendar belongs to. No foreign key: the owner is a user, a group (another
    -- plugin's table) or the school; user.deleted and group.deleted remove what they owned.
    owner_type  text NOT NULL CHECK (owner_type IN ('user', 'group', 'school')),
    owner_id    uuid,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    CHECK ((owner_type = 'school') = (owner_id IS NULL))
);
CREATE INDEX calendars_by_owner ON calendars (school_id, owner_type, owner_id);
CREATE INDEX calendars_by_name ON calendars (school_id, lower(name), id);

-- One row per iCalendar UID: the series' master VEVENT, its overridden occurrences (VEVENTs with
-- RECURRENCE-ID) and the VTIMEZONEs they reference, as one VCALENDAR text exactly as libical
-- serialised what the client sent. range_start/range_end bound every occurrence (range_end NULL:
-- the series never ends), so a window query reads only the series that can touch the window.
CREATE TABLE events (
    school_id    uuid NOT NULL,
    calendar_id  uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    uid          text NOT NULL CHECK (length(uid) BETWEEN 1 AND 500),
    summary      text NOT NULL DEFAULT '',
    ical         text NOT NULL,
    range_start  timestamptz NOT NULL,
    range_end    timestamptz,
    created_by   uuid,
    updated_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, calendar_id, uid),
    FOREIGN KEY (school_id, calendar_id) REFERENCES calendars (school_id, id) ON DELETE CASCADE,
    CHECK (range_end IS NULL OR range_end >= range_start)
);
-- Window queries: "tstzrange(range_start, range_end, '[]') && tstzrange(from, to)"; a NULL
-- upper bound is an unbounded range, so never-ending series need no special case.
CREATE INDEX events_window ON events USING gist (tstzrange(range_start, range_end, '[]'));
CREATE INDEX events_by_creator ON events (school_id, created_by);

CREATE TABLE subscriptions (
    school_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    calendar_id  uuid NOT NULL,
    -- SHA-256 (hex) of the secret token; the token itself is shown once and never stored.
    token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    label        text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    created_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    PRIMARY KEY (school_id, id),
    FOREIGN KEY (school_id, calendar_id) REFERENCES calendars (school_id, id) ON DELETE CASCADE
);
CREATE INDEX subscriptions_by_calendar ON subscriptions (school_id, calendar_id);
CREATE INDEX subscriptions_by_creator ON subscriptions (school_id, created_by);

ALTER TABLE calendars ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendars FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON calendars
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON events
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON subscriptions
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The public feed (GET /api/v1/calendar/ical/{token}.ics) runs without a school: nobody signed
-- in, so row-level security shows it nothing. This resolves a token hash to its school and
-- calendar and enters that school for the rest of the transaction, like core.enter_school():
-- SECURITY DEFINER, because only the owner may look across schools. A school that has disabled
-- the module has no feeds. last_used_at is touched at most hourly (a feed is polled often).
CREATE FUNCTION enter_feed(p_token_hash text)
RETURNS TABLE (school_id uuid, calendar_id uuid, subscription_id uuid, created_by uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = calendar, pg_temp AS $$
DECLARE
    s calendar.subscriptions%ROWTYPE;
BEGIN
    SELECT * INTO s FROM calendar.subscriptions ss WHERE ss.token_hash = p_token_hash;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM core.school_modules m
                                 WHERE m.school_id = s.school_id AND m.module = 'calendar') THEN
        RETURN;
    END IF;
    PERFORM set_config('atrium.school_id', s.school_id::text, true);
    IF s.last_used_at IS NULL OR s.last_used_at < now() - interval '1 hour' THEN
        UPDATE calendar.subscriptions ss SET last_used_at = now()
         WHERE ss.school_id = s.school_id AND ss.id = s.id;
    END IF;
    school_id := s.school_id;
    calendar_id := s.calendar_id;
    subscription_id := s.id;
    created_by := s.created_by;
    RETURN NEXT;
END $$;
