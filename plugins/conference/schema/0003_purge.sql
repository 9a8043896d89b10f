-- SPDX-License-Identifier: Apache-2.0
-- conference 0003: guest links name people who have no account (parents, speakers); a link
-- that expired or was revoked more than p_keep ago goes, across all schools (the purge runs
-- from a timer, outside any school: SECURITY DEFINER, and it only deletes). The visits stay.
CREATE FUNCTION purge_guest_links(p_keep interval) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = conference, pg_temp AS $$
    WITH gone AS (
        DELETE FROM conference.guests
         WHERE least(coalesce(revoked_at, 'infinity'), expires_at) < now() - p_keep
        RETURNING 1)
    SELECT count(*) FROM gone
$$;
