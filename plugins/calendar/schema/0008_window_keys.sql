-- SPDX-License-Identifier: Apache-2.0
-- calendar 0008: a window page read in its own order, not sorted out of the whole window
-- (issue #19).
--
-- 0003's indexes ordered a calendar's occurrences by start only, and the page's key is
-- (start, event, recurrence id): every page sorted all of the window's rows (a month of 2,900
-- for the page's 50), after a look-back of a week whose rows mostly end before the window.
-- The page's index now carries the whole key, so a page reads its rows in order and stops
-- after them, its cursor an index condition; and the look-back is one day, with occurrences
-- longer than a day (trips, holidays: a few) found by when they end (plugins/calendar/window.c).
DROP INDEX occurrences_by_start;
DROP INDEX occurrences_long;
CREATE INDEX occurrences_by_key ON occurrences (school_id, calendar_id, starts_at, event_id,
                                                recurrence_id) INCLUDE (ends_at);
CREATE INDEX occurrences_multiday ON occurrences (school_id, calendar_id, ends_at)
    INCLUDE (starts_at, event_id, recurrence_id) WHERE ends_at - starts_at > 86400;
