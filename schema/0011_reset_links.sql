-- 0011_reset_links.sql - password reset by a mailed link (issue #20, docs/ACCOUNTS.md).
--
-- A person who has an external address (core.users.email, from the import or an admin) asks
-- for a link at POST /api/v1/auth/password-reset; the link carries a random token of 256 bits,
-- of which only the SHA-256 is stored here, works once and for [auth] reset_link_minutes.
-- Nobody is signed in on either route, so the lookups go through the definer functions below;
-- what they write is written with the school set, under row-level security.

CREATE TABLE core.reset_links (
    school_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL,
    token_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (school_id, id),
    UNIQUE (school_id, token_hash),
    FOREIGN KEY (school_id, user_id) REFERENCES core.users(school_id, id) ON DELETE CASCADE
);
CREATE INDEX reset_links_by_user ON core.reset_links (school_id, user_id);
ALTER TABLE core.reset_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE core.reset_links FORCE ROW LEVEL SECURITY;
CREATE POLICY school_isolation ON core.reset_links
    USING (school_id = core.current_school()) WITH CHECK (school_id = core.current_school());

-- The accounts a reset is asked for in the school @p_school_slug: the one whose username is
-- @p_login, or every one whose external address it is (brothers and sisters may share their
-- parents' address), at most ten. The school's id comes back alone (account NULL) when the
-- school exists but nobody fits, so that the request is audited in that school.
CREATE FUNCTION core.reset_accounts(p_school_slug text, p_login text)
RETURNS TABLE (school_id uuid, school_name text, user_id uuid, username text,
               display_name text, email text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, s.name, u.id, u.username, u.display_name, u.email, u.disabled_at IS NOT NULL
      FROM core.schools s
      LEFT JOIN LATERAL (
            SELECT * FROM core.users u
             WHERE u.school_id = s.id AND u.email IS NOT NULL
               AND (u.username = p_login OR lower(u.email) = lower(p_login))
             ORDER BY u.username LIMIT 10) u ON true
     WHERE s.slug = p_school_slug
$$;

-- The live link @p_token_hash in school @p_school_slug: its id and account, or no row.
CREATE FUNCTION core.reset_link_find(p_school_slug text, p_token_hash bytea)
RETURNS TABLE (school_id uuid, link_id uuid, user_id uuid, username text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
    SELECT s.id, l.id, u.id, u.username, u.disabled_at IS NOT NULL
      FROM core.schools s
      JOIN core.reset_links l ON l.school_id = s.id AND l.token_hash = p_token_hash
                             AND l.used_at IS NULL AND l.expires_at > now()
      JOIN core.users u ON u.school_id = s.id AND u.id = l.user_id
     WHERE s.slug = p_school_slug
$$;
