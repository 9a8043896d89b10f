-- 0003_static_permission_sources.sql - core.begin_request() without dynamic SQL.
--
-- Until now begin_request() called each plugin's permission source with EXECUTE format(...),
-- which PostgreSQL plans anew on every call: with the groups source alone that was about half
-- of the function's time, on every authenticated request. Now the host writes one function,
-- core.plugin_grants(), that calls every registered source statically (it replaces the body
-- below under the migration lock whenever the set of sources changes; see
-- core/request-role.c), and begin_request() calls that: its plan is made once per connection,
-- and the sources, plain SQL functions, are inlined into it.
--
-- The four-argument begin_request() of 0002 stays, unused by this version, so hosts of the
-- previous version keep working during a rolling upgrade.

-- What the plugins' permission sources grant a user in a school. Generated; this is the body
-- for an installation without sources.
CREATE FUNCTION core.plugin_grants(p_school uuid, p_user uuid) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT NULL::text WHERE false
$$;

CREATE FUNCTION core.begin_request(p_token_hash bytea, p_school_slug text, p_module text)
RETURNS TABLE (school_id uuid, school_found boolean, module_enabled boolean,
               session_id uuid, user_id uuid, operator_id uuid, roles text[],
               permissions text[], token_valid boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = core, pg_temp AS $$
DECLARE
    s core.sessions%ROWTYPE;
    v_school uuid;
    v_roles text[];
    v_perms text[] := '{}';
BEGIN
    token_valid := false;
    IF p_token_hash IS NOT NULL THEN
        SELECT * INTO s FROM core.sessions ss
         WHERE ss.token_hash = p_token_hash AND ss.expires_at > now()
           AND (ss.idle_timeout IS NULL OR ss.last_used_at + ss.idle_timeout > now());
        IF FOUND THEN
            token_valid := true;
            -- Touch at most once a minute: a write per request would cost more than it tells.
            IF s.last_used_at < now() - interval '60 seconds' THEN
                UPDATE core.sessions SET last_used_at = now() WHERE id = s.id;
            END IF;
        END IF;
    END IF;

    IF p_school_slug IS NOT NULL THEN
        SELECT sc.id INTO v_school FROM core.schools sc WHERE sc.slug = p_school_slug;
        school_found := v_school IS NOT NULL;
        -- A user of another school must not learn that this one exists.
        IF school_found AND token_valid AND s.user_id IS NOT NULL AND s.school_id <> v_school THEN
            school_found := false;
            v_school := NULL;
        END IF;
    ELSE
        school_found := true;
        IF token_valid AND s.user_id IS NOT NULL THEN
            v_school := s.school_id;
        END IF;
    END IF;
    school_id := v_school;

    module_enabled := p_module IS NULL OR (v_school IS NOT NULL AND EXISTS (
        SELECT 1 FROM core.school_modules m WHERE m.school_id = v_school AND m.module = p_module));

    IF token_valid THEN
        session_id := s.id;
        user_id := s.user_id;
        operator_id := s.operator_id;
        IF s.user_id IS NOT NULL THEN
            SELECT u.roles INTO v_roles FROM core.users u
             WHERE u.school_id = s.school_id AND u.id = s.user_id;
            roles := coalesce(v_roles, '{}');
            -- The roles' grants and the plugins' (e.g. rights of a group's members) together.
            SELECT coalesce(array_agg(DISTINCT x.g), '{}') INTO v_perms
              FROM (SELECT r.g FROM core.role_grants(s.school_id, roles) r(g)
                    UNION ALL
                    SELECT p.g FROM core.plugin_grants(s.school_id, s.user_id) p(g)
                     WHERE v_school IS NOT NULL) x;
            PERFORM set_config('atrium.user_id', s.user_id::text, true);
        ELSE
            roles := '{}';
            PERFORM set_config('atrium.operator', 'true', true);
            PERFORM set_config('atrium.operator_id', s.operator_id::text, true);
        END IF;
    END IF;
    IF v_school IS NOT NULL THEN
        PERFORM set_config('atrium.school_id', v_school::text, true);
    END IF;

    IF token_valid AND s.scopes IS NOT NULL THEN
        SELECT coalesce(array_agg(p), '{}') INTO v_perms
          FROM unnest(v_perms) p WHERE p = ANY (s.scopes);
    END IF;
    permissions := v_perms;
    RETURN NEXT;
END $$;
