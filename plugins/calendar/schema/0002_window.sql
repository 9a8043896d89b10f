-- SPDX-License-Identifier: Apache-2.0
-- calendar 0002: window queries that use the events_window index.
--
-- Under row-level security the planner may not evaluate a non-leakproof operator such as the
-- range overlap && before the policy's own check, and an index condition would do exactly
-- that: so, for the request role, every window query read all of the school's events (the
-- calendar benchmark found it; bench/RESULTS.md). This function runs as the owner, without
-- the policy, and applies the school itself: the transaction's school (core.current_school(),
-- NULL outside one, which matches nothing), and only the calendars the caller passes, which
-- the plugin has already checked the caller may see.
CREATE FUNCTION events_in_window(p_calendars uuid[], p_from timestamptz, p_to timestamptz)
RETURNS TABLE (id uuid, calendar_id uuid, ical text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = calendar, pg_temp AS $$
    SELECT e.id, e.calendar_id, e.ical FROM calendar.events e
     WHERE e.school_id = core.current_school()
       AND e.calendar_id = ANY (p_calendars)
       AND tstzrange(e.range_start, e.range_end, '[]') && tstzrange(p_from, p_to, '[)')
     ORDER BY e.id
$$;
