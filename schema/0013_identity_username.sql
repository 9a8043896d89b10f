-- SPDX-License-Identifier: Apache-2.0
-- 0013_identity_username.sql - the identity check names the caller itself.
--
-- The WebDAV identity check needs the caller's username (0012): it called core.username_of()
-- for it, a SQL function whose SECURITY DEFINER and SET clauses keep it from being inlined, so
-- PostgreSQL planned its query anew on every request. Measured with pgbench on the profiling
-- host (the check as the host sends it, -M prepared): 14,000 checks a second with it, 18,100
-- without; the two identity functions already join core.users and now return `username`
-- (NULL for operators and for no one). They are the 0010 ones with that one more column (a
-- changed result type needs DROP); core.username_of() goes.
--
-- And core.request_identity() takes the session's person from one join: a session whose
-- person is disabled is no session because that joined row says so, where 0007 asked a
-- NOT EXISTS of core.users beside the join. With OR around it that stays a subplan, which the
-- planner may run hashed: a scan of every disabled person on every request (it did so on
-- tables not analyzed yet). The check alone, pgbench -M prepared: 22,500 -> 25,800 a second.

DROP FUNCTION core.request_identity(bytea, text, text, bigint);
CREATE FUNCTION core.request_identity(p_token_hash bytea, p_school_slug text, p_module text,
                                      p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean, username text)
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
           s.scopes, s.school_id, coalesce(u.must_change_password, false),
           coalesce(u.must_enrol_totp, false), u.username
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, v_scopes, v_home, must_change, must_enrol, username
      FROM (SELECT 1) AS one
      LEFT JOIN (core.sessions s
                 LEFT JOIN core.users u ON u.school_id = s.school_id AND u.id = s.user_id)
             ON p_token_hash IS NOT NULL AND s.token_hash = p_token_hash AND s.expires_at > now()
            AND (s.idle_timeout IS NULL OR s.last_used_at + s.idle_timeout > now())
            AND (s.user_id IS NULL OR u.disabled_at IS NULL)
      LEFT JOIN core.permission_epochs pe ON s.user_id IS NOT NULL AND pe.school_id = s.school_id
      LEFT JOIN core.schools sc ON p_school_slug IS NOT NULL AND sc.slug = p_school_slug
      CROSS JOIN LATERAL (
          SELECT CASE WHEN p_school_slug IS NULL THEN (CASE WHEN s.user_id IS NOT NULL THEN s.school_id END)
                      WHEN s.user_id IS NOT NULL AND s.school_id <> sc.id THEN NULL
                      ELSE sc.id END AS school_id,
                 CASE WHEN p_school_slug IS NULL THEN true
                      ELSE sc.id IS NOT NULL AND NOT (s.user_id IS NOT NULL AND s.school_id <> sc.id)
                 END AS school_found) v;

    IF operator_id IS NOT NULL THEN
        permissions := '{}';
    ELSIF user_id IS NOT NULL AND (p_epoch IS NULL OR p_epoch <> epoch) THEN
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(v_home, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(v_home, user_id) p(g)) x
                              WHERE v_scopes IS NULL OR x.g = ANY (v_scopes)
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;

DROP FUNCTION core.request_identity_user(uuid, text, text, bigint);
CREATE FUNCTION core.request_identity_user(p_user uuid, p_school_slug text, p_module text,
                                           p_epoch bigint)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean, epoch bigint, touch boolean,
               must_change boolean, must_enrol boolean, username text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = core, pg_temp AS $$
#variable_conflict use_column
BEGIN
    SELECT sc.id, true,
           p_module IS NULL OR EXISTS (SELECT 1 FROM core.school_modules m
                                        WHERE m.school_id = sc.id AND m.module = p_module),
           NULL::uuid, u.id, NULL::uuid, coalesce(u.roles, '{}'), true,
           coalesce(pe.epoch, 0), false, u.must_change_password, u.must_enrol_totp, u.username
      INTO school_id, school_found, module_enabled, session_id, user_id, operator_id, roles,
           token_valid, epoch, touch, must_change, must_enrol, username
      FROM core.schools sc
      JOIN core.users u ON u.school_id = sc.id AND u.id = p_user AND u.disabled_at IS NULL
      LEFT JOIN core.permission_epochs pe ON pe.school_id = sc.id
     WHERE sc.slug = p_school_slug;
    IF NOT FOUND THEN
        school_found := false;
        module_enabled := false;
        token_valid := false;
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_epoch IS NULL OR p_epoch <> epoch THEN
        permissions := ARRAY(SELECT DISTINCT x.g
                               FROM (SELECT r.g FROM core.role_grants(school_id, roles) r(g)
                                     UNION ALL
                                     SELECT p.g FROM core.plugin_grants(school_id, user_id) p(g)) x
                              ORDER BY 1);
    END IF;
    RETURN NEXT;
END $$;

DROP FUNCTION core.username_of(uuid, uuid);
