-- SPDX-License-Identifier: Apache-2.0
-- mail 0003: full-text search that uses its GIN index.
--
-- Under row-level security the planner may not evaluate the non-leakproof text-search match
-- @@ before the policy's own check, so for the request role every search read the whole
-- mailbox (the mail benchmark found it, as the calendar's found it for its range index). This
-- function runs as the owner, without the policy, and applies the school itself (the
-- transaction's, NULL outside one: nothing) and the mailbox the plugin passes (the caller's).
CREATE FUNCTION search_ids(p_user uuid, p_query text, p_before_at timestamptz,
                           p_before_id uuid, p_limit int)
RETURNS TABLE (id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = mail, pg_temp AS $$
    SELECT m.id FROM mail.messages m
     WHERE m.school_id = core.current_school()
       AND m.user_id = p_user
       AND m.search @@ websearch_to_tsquery('simple', p_query)
       AND (p_before_at IS NULL OR (m.received_at, m.id) < (p_before_at, p_before_id))
     ORDER BY m.received_at DESC, m.id DESC
     LIMIT p_limit
$$;
