-- 0007_disabled_sessions.sql - a disabled person's session never passes the identity check.
--
-- Disabling a person (an import's remove_missing=disable) revokes their sessions and tokens in
-- the same transaction, and sign-in refuses them; but a sign-in that read the account just
-- before the disable committed creates its session just after. The identity check now treats
-- the session of a disabled person as no session (401), so nothing a race leaves behind works.
-- Same function as 0004 otherwise; the check is one primary-key probe of a row the function
-- reads anyway.

CREATE OR REPLACE FUNCTION core.request_identity(p_token_hash bytea, p_school_slug text, p_module text,
                                      p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_scopes text[];
    v_home uuid;
BEGIN
    SELECT v.school_id, v.school_found,
           p_module IS NULL OR (v.school_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM core.school_modules m
                WHERE m.school_id = v.school_id AND m.module = p_module)),
           s.id, s.user_id, s.operator_id,
           CASE WHEN s.user_id IS NOT NULL THEN coalesce(u.roles, '{}') END,
           s.id IS NOT NULL,
           CASE WHEN s.user_id IS NOT NULL THEN coalesce(pe.epoch, 0) END,
           coalesce(s.last_used_at < now() - interval '60 seconds', false),
           s.scopes, s.school_id
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, v_scopes, v_home
      FROM (SELECT 1) AS one
      LEFT JOIN core.sessions s
             ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash AND s.expires_at > now()
            AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
            -- A disabled person's sessions are revoked when they are disabled; one that a
            -- sign-in created meanwhile must not work either.
            AND (s.user_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM core.users d
                      WHERE d.school_id = s.school_id AND d.id = s.user_id
                        AND d.disabled_at IS NOT NULL))
      LEFT JOIN core.users u ON s.user_id IS NOT NULL AND u.school_id = s.school_id AND u.id = s.user_id
      LEFT JOIN core.permission_epochs pe ON s.user_id IS NOT NULL AND pe.school_id = s.school_id
      LEFT JOIN core.schools sc ON p_school_slug IS NOT NULL AND sc.slug = p_school_slug
      CROSS JOIN LATERAL (
          -- A user of another school must not learn that this one exists.
          SELECT CASE WHEN p_school_slug IS NULL THEN (CASE WHEN s.user_id IS NOT NULL THEN s.school_id END)
                      WHEN s.user_id IS NOT NULL AND s.school_id <> sc.id THEN NULL
                      ELSE sc.id END AS school_id,
                 CASE WHEN p_school_slug IS NULL THEN true
                      ELSE sc.id IS NOT NULL AND NOT (s.user_id IS NOT NULL AND s.school_id <> sc.id)
                 END AS school_found) v;

    IF operator_id IS NOT NULL THEN
        permissions := '{}';
    ELSIF user_id IS NOT NULL AND (p_epoch IS NULL OR p_epoch <> epoch) THEN
        -- The roles' grants and the plugins' (e.g. rights of a group's members), within the
        -- token's scopes. The user's own school: the session's, whatever the slug said.
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(v_home, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(v_home, user_id) p(g)) x
                              WHERE v_scopes IS NULL OR x.g = ANY (v_scopes)
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;
