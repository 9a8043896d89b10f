-- SPDX-License-Identifier: Apache-2.0
-- calendar 0003: materialised occurrences, so a window query reads rows instead of re-parsing
-- and expanding every overlapping series' iCalendar text (issue #19).
--
-- calendar.occurrences holds the occurrences libical expanded when the series was written (or
-- when a window first reached beyond what was stored), one row each, with the texts the window
-- view shows. events.occ_from/occ_to say how far that goes: both NULL, every occurrence of the
-- series is stored ("complete"); otherwise every occurrence overlapping [occ_from, occ_to)
-- (Unix seconds) is stored, and a window reaching outside that range extends it first. An
-- empty range (occ_from = occ_to) means nothing is stored yet.
ALTER TABLE events ADD COLUMN occ_from bigint, ADD COLUMN occ_to bigint;
ALTER TABLE events ADD CHECK ((occ_from IS NULL) = (occ_to IS NULL) AND occ_from <= occ_to);

-- The backfill: rows written before this migration have nothing stored. SQL cannot expand
-- iCalendar, so they are marked as covering nothing and the first window that touches one
-- expands it with libical and stores the result (plugins/calendar/occurrences.c). New rows get
-- the same default until the plugin stores their occurrences in the same transaction.
UPDATE events SET occ_from = 0, occ_to = 0;
ALTER TABLE events ALTER COLUMN occ_from SET DEFAULT 0, ALTER COLUMN occ_to SET DEFAULT 0;
-- The series a window may have to extend: only the incomplete ones (open-ended series, those
-- too long to store whole, and the backfilled ones).
CREATE INDEX events_incomplete ON events (school_id, calendar_id) WHERE occ_to IS NOT NULL;

CREATE TABLE occurrences (
    school_id     uuid NOT NULL,
    calendar_id   uuid NOT NULL,
    event_id      uuid NOT NULL,
    -- The original start as the API shows it ("2026-03-02T07:00:00Z" or a date); '' for a
    -- single event. Unique within a series, so extensions that overlap add nothing twice.
    recurrence_id text NOT NULL COLLATE "C",
    starts_at     bigint NOT NULL,
    ends_at       bigint NOT NULL,
    all_day       boolean NOT NULL,
    modified      boolean NOT NULL,
    summary       text NOT NULL,
    description   text,
    location      text,
    status        text,
    timezone      text,
    PRIMARY KEY (school_id, event_id, recurrence_id),
    FOREIGN KEY (school_id, event_id) REFERENCES events (school_id, id) ON DELETE CASCADE,
    CHECK (ends_at >= starts_at)
);
-- A window [from, to) is read in two parts (plugins/calendar/window.c): occurrences starting
-- less than a week before it, by start; and the few longer than a week, by their own index.
-- The INCLUDE columns let the count and the page's sort key come from the index alone.
CREATE INDEX occurrences_by_start ON occurrences (school_id, calendar_id, starts_at)
    INCLUDE (ends_at, event_id, recurrence_id);
CREATE INDEX occurrences_long ON occurrences (school_id, calendar_id, starts_at)
    INCLUDE (ends_at, event_id, recurrence_id) WHERE ends_at - starts_at > 604800;

ALTER TABLE occurrences ENABLE ROW LEVEL SECURITY;
ALTER TABLE occurrences FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON occurrences
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());
