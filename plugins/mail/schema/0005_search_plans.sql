-- SPDX-License-Identifier: Apache-2.0
-- mail 0005: search plans that fit the word searched for.
--
-- mail.search_ids() (0003) was a SQL function with a SET clause, which PostgreSQL never
-- inlines and plans once per call without the parameters' values: every search got the same
-- generic plan, a bitmap of every match ANDed with every message of the mailbox, then sorted
-- (EXPLAIN ANALYZE on bench/mail's 10,000-message mailbox: 14.5 ms for a word in all of
-- them, 1.4 ms for a word in 1 %). As PL/pgSQL with plan_cache_mode = force_custom_plan,
-- each call is planned with its words: a rare word reads the GIN index, a common one walks
-- the mailbox newest first and stops at the page's end. That walk needs an index in
-- (user, received_at) order, which replaces messages_by_user: its only reader, the quota's
-- sum over the mailbox, reads mail.usage now (0004).
CREATE INDEX messages_by_user_time ON messages (school_id, user_id, received_at DESC, id DESC);
DROP INDEX messages_by_user;

CREATE OR REPLACE FUNCTION search_ids(p_user uuid, p_query text, p_before_at timestamptz,
                                      p_before_id uuid, p_limit int)
RETURNS TABLE (id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = mail, pg_temp SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    RETURN QUERY
    SELECT m.id FROM mail.messages m
     WHERE m.school_id = core.current_school()
       AND m.user_id = p_user
       AND m.search @@ websearch_to_tsquery('simple', p_query)
       AND (p_before_at IS NULL OR (m.received_at, m.id) < (p_before_at, p_before_id))
     ORDER BY m.received_at DESC, m.id DESC
     LIMIT p_limit;
END $$;
